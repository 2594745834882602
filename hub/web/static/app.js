/* Live updates: listen to the server's state stream (pushed on every change, never polled) and
   refresh only what changed. The server sends {t: newest ticket id, c: newest comment id,
   u: a counter that grows with every change to the user's tickets, n: unread notifications}. */
(function () {
  "use strict";
  /* Bulk actions: show only the value the chosen action needs (all stay visible without JS). */
  var action = document.getElementById("bulk-action");
  if (action) {
    var needs = {assign: "bulk-assignee", set_priority: "bulk-priority", set_status: "bulk-status"};
    var sync = function () {
      ["bulk-assignee", "bulk-priority", "bulk-status"].forEach(function (id) {
        document.getElementById(id).closest(".field").hidden = needs[action.value] !== id;
      });
    };
    action.addEventListener("change", sync);
    sync();
  }
  /* Selecting a ticket unfolds the bulk actions. */
  var fold = document.getElementById("bulk-fold");
  if (fold) {
    document.addEventListener("change", function (e) {
      if (e.target.matches && e.target.matches("#queue-rows input[name=ids]") && e.target.checked) {
        fold.open = true;
      }
    });
  }
}());

(function () {
  "use strict";
  var body = document.body;
  if (!body || !body.dataset.live || !window.EventSource) { return; }
  var state = {t: +body.dataset.liveT, c: +body.dataset.liveC, u: +body.dataset.liveU,
               n: +body.dataset.liveN};
  var announcer = document.getElementById("live-announcer");

  function announce(text) {
    if (!announcer) { return; }
    announcer.textContent = "";
    window.setTimeout(function () { announcer.textContent = text; }, 50);
  }
  function fire(name) {
    if (window.htmx) { window.htmx.trigger(body, name); }
    else { body.dispatchEvent(new CustomEvent(name)); }
  }
  function showCount(n) {
    var badge = document.getElementById("notif-count");
    if (!badge) { return; }
    badge.textContent = window.hubText("unread", {n: n});
    badge.hidden = n === 0;
  }

  // On a ticket page the stream also carries who else is on it (static/presence.js shows it).
  var presence = document.getElementById("presence");
  var source = new EventSource(presence ? "/events?ticket=" + presence.dataset.ticket : "/events");
  source.addEventListener("presence", function (event) {
    document.dispatchEvent(new CustomEvent("hub:presence", {detail: JSON.parse(event.data)}));
  });
  source.addEventListener("state", function (event) {
    var next = JSON.parse(event.data);
    if (next.t > state.t || next.u > state.u) {
      if (next.t > state.t) { announce(window.hubText("new_tickets")); }
      // Never pull rows out from under an agent's bulk selection.
      if (!document.querySelector("#queue-rows input:checked")) { fire("hub:tickets"); }
    }
    if (next.c > state.c) { fire("hub:comments"); announce(window.hubText("new_messages")); }
    if (next.n !== state.n) {
      showCount(next.n);
      if (next.n > state.n && window.htmx) {
        window.htmx.ajax("GET", "/notifications/menu", {target: "#notif-panel", swap: "innerHTML"});
      }
    }
    state = next;
  });
  window.addEventListener("pagehide", function () { source.close(); });
}());

/* "Insert link" on suggested articles: append the article's title and address to the reply box
   (a button, so it works from the keyboard; focus moves to the reply to go on typing). */
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-insert-into]") : null;
    if (!button) { return; }
    var box = document.getElementById(button.dataset.insertInto);
    if (!box) { return; }
    var text = button.dataset.insertText || "";
    box.value = box.value ? box.value.replace(/\s*$/, "") + "\n\n" + text : text;
    box.focus();
    var announcer = document.getElementById("live-announcer");
    if (announcer) { announcer.textContent = window.hubText("link_inserted"); }
  });
}());

/* Never lose a reply: a form marked data-carry-draft (the ticket's Properties) takes the reply
   being typed along, so the server keeps it as the draft instead of dropping it. */
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var from = form.dataset && document.getElementById(form.dataset.carryDraft || "");
    if (!from) { return; }
    var message = from.querySelector("[name=comment]");
    var kind = from.querySelector("[name=kind]:checked");
    var toMessage = form.querySelector("[data-carry=comment]");
    var toKind = form.querySelector("[data-carry=kind]");
    if (message && toMessage) { toMessage.value = message.value; }
    if (kind && toKind) { toKind.value = kind.value; }
  });
}());
