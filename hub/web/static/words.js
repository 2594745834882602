/* The page's words for the scripts: the server's message templates in the reader's language
   (#ui-words in base.html, from hub.web.i18n.ui_words), filled in by name. The scripts carry no
   wording of their own: hubText("left", {time: "2 h"}) -> "2 h left", or "noch 2 Std.". */
(function () {
  "use strict";
  var words = null;
  function load() {
    if (words) { return words; }
    var block = document.getElementById("ui-words");
    try { words = block ? JSON.parse(block.textContent) : {}; } catch (e) { words = {}; }
    return words;
  }
  /* "%(time)s left" with {time: "2 h"}; a key the page lacks gives "" (nothing is announced). */
  window.hubText = function (key, values) {
    var template = load()[key];
    if (typeof template !== "string") { return ""; }
    values = values || {};
    return template.replace(/%\((\w+)\)s/g, function (all, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : all;
    }).replace(/%%/g, "%");
  };
  window.hubHasWords = function () { return Object.keys(load()).length > 0; };
}());
