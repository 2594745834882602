/* The browser's time zone: kept in a cookie for the pages (hub.web.render reads hub_tz), and
   told once to the server for the mail (POST /account/language/browser) while the person has
   not chosen a zone and the server's copy differs (body data-detect-zone). */
(function () {
  "use strict";
  var zone;
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
  if (!zone) { return; }
  document.cookie = "hub_tz=" + encodeURIComponent(zone) + "; path=/; max-age=31536000; samesite=lax";
  var body = document.body;
  if (!body || !body.dataset.detectZone || !window.fetch) { return; }
  var csrf;
  try { csrf = JSON.parse(body.getAttribute("hx-headers") || "{}")["X-CSRF-Token"]; } catch (e) { return; }
  if (!csrf) { return; }
  fetch("/account/language/browser", {
    method: "POST", credentials: "same-origin",
    headers: {"X-CSRF-Token": csrf, "Content-Type": "application/x-www-form-urlencoded"},
    body: "time_zone=" + encodeURIComponent(zone)
  }).catch(function () {});
}());
