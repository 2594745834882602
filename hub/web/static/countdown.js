/* SLA countdowns: the server writes "2 h 10 min left" / "breached 35 min ago" in the reader's
   language (the no-script text); this refreshes the words and the progress bar every minute for
   targets that run around the clock (data-due), on the server's clock (data-now), until the rows
   are next rendered. The words are the page's: the server's templates in #ui-words (base.html,
   "%(time)s left" and the like, read by words.js); without them the script leaves the server's
   words alone. */
(function () {
  "use strict";
  var text = window.hubText;
  /* When each countdown arrived from the server (rows re-rendered by htmx bring new ones). */
  function stamp() {
    var at = Date.now();
    Array.prototype.forEach.call(document.querySelectorAll(".sla[data-due]"), function (span) {
      if (!span.hubLoaded) { span.hubLoaded = at; }
    });
  }

  function duration(minutes) {
    var total = Math.floor(Math.max(minutes, 0));
    if (total < 1) { return text("under_a_minute"); }
    var days = Math.floor(total / 1440), hours = Math.floor((total % 1440) / 60), mins = total % 60;
    var parts = {days: days, hours: hours, minutes: mins};
    if (days) { return text(hours ? "days_hours" : "days", parts); }
    if (hours) { return text(mins ? "hours_minutes" : "hours", parts); }
    return text("minutes", parts);
  }
  function refresh() {
    if (!text || !window.hubHasWords()) { return; }
    var spans = document.querySelectorAll(".sla[data-due]");
    Array.prototype.forEach.call(spans, function (span) {
      var due = Date.parse(span.dataset.due);
      var now = Date.parse(span.dataset.now) + (Date.now() - (span.hubLoaded || Date.now()));
      var target = parseFloat(span.dataset.targetMinutes);
      var left = (due - now) / 60000;
      var words = span.querySelector(".sla-left");
      if (words) {
        words.textContent = left > 0 ? text("left", {time: duration(left)})
          : text("breached", {time: duration(-left)});
      }
      var bar = span.querySelector("progress");
      if (bar && target > 0) {
        var used = Math.round(Math.min(Math.max(1 - left / target, 0), 1) * 100);
        bar.value = used;
        bar.textContent = used + "%";
        bar.setAttribute("aria-label", bar.getAttribute("aria-label").replace(/^\d+%/, used + "%"));
      }
    });
  }
  stamp();
  document.body.addEventListener("htmx:afterSwap", stamp);
  window.setInterval(refresh, 60000);
}());
