/* Keyboard shortcuts of the queue and the ticket page (their list: templates/_shortcuts_help.html).
   Single keys only: never with Ctrl, Alt or Meta, never while focus is in a field, and never while
   the list is open. Every action is announced in the page's live region. */
(function () {
  "use strict";
  var dialog = document.getElementById("shortcuts");
  if (!dialog) { return; }
  var page = dialog.dataset.page;
  var me = dialog.dataset.me;
  var announcer = document.getElementById("live-announcer");
  var openers = document.querySelectorAll("[data-shortcuts-help]");
  var say = window.hubText;  /* the page's words (static/words.js) */

  function announce(text) {
    if (!announcer) { return; }
    announcer.textContent = "";
    window.setTimeout(function () { announcer.textContent = text; }, 50);
  }
  function showList() {
    if (!dialog.open) { dialog.showModal(); }
  }
  Array.prototype.forEach.call(openers, function (button) {
    button.hidden = false;
    button.addEventListener("click", showList);
  });
  dialog.addEventListener("close", function () { announce(say("shortcuts_closed")); });
  /* Keep Tab inside the open list (a modal dialog would let it reach the browser's own UI). */
  dialog.addEventListener("keydown", function (e) {
    if (e.key !== "Tab") { return; }
    var items = dialog.querySelectorAll("button, a[href], [tabindex]:not([tabindex='-1'])");
    if (!items.length) { return; }
    var first = items[0], last = items[items.length - 1];
    if (e.shiftKey && document.activeElement === first) { e.preventDefault(); last.focus(); }
    else if (!e.shiftKey && document.activeElement === last) { e.preventDefault(); first.focus(); }
  });

  function typing(el) {
    if (!el || el === document.body) { return false; }
    var tag = el.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || el.isContentEditable;
  }
  function csrf() {
    var input = document.querySelector("input[name=csrf_token]");
    return input ? input.value : "";
  }

  /* ---------------------------------------------------------------- the queue */
  var current = -1;
  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("#queue-rows tr[data-ticket]"));
  }
  function rowOfFocus(list) {
    var row = document.activeElement && document.activeElement.closest
      ? document.activeElement.closest("tr[data-ticket]") : null;
    var at = row ? list.indexOf(row) : -1;
    return at >= 0 ? at : current;
  }
  function link(row) { return row.querySelector("a.ticket-link"); }
  function name(row) { return link(row).textContent.trim(); }
  function move(step) {
    var list = rows();
    if (!list.length) { announce(say("no_tickets_here")); return; }
    var from = rowOfFocus(list);
    var to = from < 0 ? 0 : Math.min(Math.max(from + step, 0), list.length - 1);
    list.forEach(function (row) { row.classList.remove("is-current"); });
    var row = list[to];
    row.classList.add("is-current");
    current = to;
    link(row).focus();
    announce(say("ticket_n_of", {n: to + 1, count: list.length, name: name(row)}));
  }
  function chosen() {
    var list = rows();
    var at = rowOfFocus(list);
    if (at < 0 || !list[at]) { announce(say("choose_first")); return null; }
    return list[at];
  }
  function assignToMe(row) {
    var body = new FormData();
    body.append("csrf_token", csrf());
    body.append("ids", row.dataset.ticket);
    body.append("action", "assign");
    body.append("assigned_to", me);
    announce(say("assigning_name", {name: name(row)}));
    fetch("/queue/bulk", {method: "POST", body: body, credentials: "same-origin"})
      .then(function (r) { return r.text(); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var flash = doc.querySelector(".flash");
        announce(flash ? flash.textContent.replace(/\s+/g, " ").trim() : say("assigned_to_you"));
        refreshRows();
      })
      .catch(function () { announce(say("assign_failed")); });
  }
  function refreshRows() {
    if (window.htmx) { window.htmx.trigger(document.body, "hub:tickets"); }
  }
  function queueKey(e) {
    var row;
    switch (e.key) {
      case "j": move(1); return true;
      case "k": move(-1); return true;
      case "o":
      case "Enter":
        if (e.key === "Enter" && document.activeElement &&
            document.activeElement.matches("a, button, summary, [role=button], [tabindex='0']")) {
          return false; /* links and buttons act on Enter themselves */
        }
        row = chosen();
        if (row) { announce(say("opening", {name: name(row)})); window.location.assign(link(row).href); }
        return true;
      case "a":
        row = chosen();
        if (row && me && row.querySelector("input[name=ids]")) { assignToMe(row); }
        return true;
      case "x":
        row = chosen();
        if (!row) { return true; }
        var box = row.querySelector("input[name=ids]");
        if (!box) { announce(say("select_needs_agent")); return true; }
        box.checked = !box.checked;
        box.dispatchEvent(new Event("change", {bubbles: true}));
        var count = document.querySelectorAll("#queue-rows input[name=ids]:checked").length;
        announce(say(box.checked ? "selected_name" : "unselected_name", {name: name(row), count: count}));
        return true;
      case "/":
        var search = document.getElementById("f-q");
        if (search) { search.focus(); announce(say("search_queue")); }
        return true;
    }
    return false;
  }
  document.body.addEventListener("htmx:afterSwap", function () {
    /* Keep the current row (by position) after the rows were refreshed. */
    var list = rows();
    if (current >= 0 && list[current]) { list[current].classList.add("is-current"); }
  });

  /* ---------------------------------------------------------------- the ticket page */
  function ticketKey(e) {
    var comment = document.getElementById("comment");
    switch (e.key) {
      case "r":
      case "n":
        if (!comment) { return false; }
        var kind = document.getElementById(e.key === "r" ? "kind-public" : "kind-internal");
        if (kind) { kind.checked = true; }
        comment.focus();
        announce(say(e.key === "r" ? "reply_to_requester" : "internal_note_staff"));
        return true;
      case "a":
        var assignee = document.getElementById("p-assignee");
        if (!assignee || !me) { return false; }
        if (assignee.value === me) { announce(say("already_yours")); return true; }
        assignee.value = me;
        if (assignee.value !== me) { announce(say("cannot_assign")); return true; }
        announce(say("assigning_ticket"));
        assignee.form.requestSubmit();
        return true;
      case "s":
        var status = document.getElementById("p-status");
        if (!status) { return false; }
        status.focus();
        announce(say("set_status"));
        return true;
      case "u":
      case "Escape":
        announce(say("back_to_queue"));
        window.location.assign("/queue");
        return true;
    }
    return false;
  }

  document.addEventListener("keydown", function (e) {
    if (e.defaultPrevented || e.isComposing || e.ctrlKey || e.altKey || e.metaKey) { return; }
    if (dialog.open || typing(e.target)) { return; }
    if (e.key === "?") { e.preventDefault(); showList(); return; }
    if (e.shiftKey) { return; }
    var handled = page === "queue" ? queueKey(e) : ticketKey(e);
    if (handled) { e.preventDefault(); }
  });
}());
