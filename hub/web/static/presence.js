/* Presence and typing on a ticket page (staff): a heartbeat every 20 s while the page is open,
   a debounced typing ping from the reply box, a "leave" when the page goes; the stream's
   "presence" events (forwarded by app.js as hub:presence) fill the polite status line. */
(function () {
  "use strict";
  var region = document.getElementById("presence");
  var line = document.getElementById("presence-text");
  if (!region || !line) { return; }
  var url = "/tickets/" + region.dataset.ticket + "/presence";
  var csrf = "";
  try { csrf = JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRF-Token"] || ""; }
  catch (e) { csrf = ""; }
  var HEARTBEAT_MS = 20000, TYPING_EVERY_MS = 3000, TYPING_IDLE_MS = 4000;
  var lastTyping = 0, idleTimer = null;

  function send(fields) {
    var body = new URLSearchParams(fields);
    try {
      window.fetch(url, {method: "POST", body: body, keepalive: true, credentials: "same-origin",
                         headers: {"X-CSRF-Token": csrf}});
    } catch (e) { /* presence is best effort */ }
  }
  function heartbeat() { if (!document.hidden) { send({}); } }
  heartbeat();
  window.setInterval(heartbeat, HEARTBEAT_MS);
  document.addEventListener("visibilitychange", heartbeat);

  var box = document.getElementById("comment");
  if (box) {
    box.addEventListener("input", function () {
      var now = Date.now();
      if (now - lastTyping > TYPING_EVERY_MS) { lastTyping = now; send({typing: "true"}); }
      window.clearTimeout(idleTimer);
      idleTimer = window.setTimeout(function () { lastTyping = 0; send({typing: "false"}); },
                                    TYPING_IDLE_MS);
    });
  }
  window.addEventListener("pagehide", function () { send({leave: "true"}); });

  function list(names) {
    if (names.length < 2) { return names.join(""); }
    return window.hubText("names_and", {names: names.slice(0, -1).join(", "), last: names[names.length - 1]});
  }
  document.addEventListener("hub:presence", function (event) {
    var p = event.detail || {};
    var viewing = p.viewing || [], typing = p.typing || [];
    var text = viewing.length ? window.hubText("also_viewing", {names: list(viewing)})
      : window.hubText("nobody_viewing");
    if (typing.length) {
      text += " " + window.hubText(typing.length > 1 ? "typing_many" : "typing_one", {names: list(typing)});
    }
    region.classList.toggle("presence-active", viewing.length > 0);
    if (line.textContent !== text) { line.textContent = text; }
  });
}());
