/* SLA countdowns: the server writes "2 h 10 min left" / "breached 35 min ago" (the no-script
   text); this refreshes the words and the progress bar every minute for targets that run around
   the clock (data-due), on the server's clock (data-now), until the rows are next rendered. */
(function () {
  "use strict";
  /* When each countdown arrived from the server (rows re-rendered by htmx bring new ones). */
  function stamp() {
    var at = Date.now();
    Array.prototype.forEach.call(document.querySelectorAll(".sla[data-due]"), function (span) {
      if (!span.hubLoaded) { span.hubLoaded = at; }
    });
  }

  function duration(minutes) {
    var total = Math.floor(Math.max(minutes, 0));
    if (total < 1) { return "less than 1 min"; }
    var days = Math.floor(total / 1440), hours = Math.floor((total % 1440) / 60), mins = total % 60;
    if (days) { return hours ? days + " d " + hours + " h" : days + " d"; }
    if (hours) { return mins ? hours + " h " + mins + " min" : hours + " h"; }
    return mins + " min";
  }
  function refresh() {
    var spans = document.querySelectorAll(".sla[data-due]");
    Array.prototype.forEach.call(spans, function (span) {
      var due = Date.parse(span.dataset.due);
      var now = Date.parse(span.dataset.now) + (Date.now() - (span.hubLoaded || Date.now()));
      var target = parseFloat(span.dataset.targetMinutes);
      var left = (due - now) / 60000;
      var words = span.querySelector(".sla-left");
      if (words) {
        words.textContent = left > 0 ? duration(left) + " left" : "breached " + duration(-left) + " ago";
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
