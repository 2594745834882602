/* Teleops Support Hub web chat widget.
 * Embed: <script src="https://HUB/plugins/chatbot/widget.js?tenant=SLUG" async></script>
 * Optional attributes: data-token (a signed-in user's API token), data-mode="page" (full page),
 * data-session (resume a conversation). Every text is inserted with textContent: never as HTML.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script) { return; }
  var src = new URL(script.src, window.location.href);
  var tenant = src.searchParams.get("tenant") || "";
  var base = src.href.split("?")[0].replace(/\/widget\.js$/, "");
  var pageMode = script.getAttribute("data-mode") === "page";
  var storeKey = "hub-chat:" + base + ":" + tenant;
  var session = script.getAttribute("data-session") || readStored() || "";
  var authToken = script.getAttribute("data-token") || "";
  var ws = null, retries = 0, maxChars = 1000;
  // The words in the visitor's language, filled in by the hub when it serves this file.
  var W = __WORDS__;
  var labels = { user: W.you, bot: W.bot, agent: W.agent };

  function readStored() {
    try { return window.localStorage.getItem(storeKey); } catch (e) { return null; }
  }
  function store(token) {
    try { window.localStorage.setItem(storeKey, token); } catch (e) { /* private mode */ }
  }
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  var css = el("style");
  css.textContent = [
    ".hubc-launch{position:fixed;right:1rem;bottom:1rem;z-index:2147483000;border:0;border-radius:2rem;padding:.8rem 1.2rem;background:#1f4fd1;color:#fff;font:600 1rem system-ui,sans-serif;cursor:pointer}",
    ".hubc-launch:focus-visible,.hubc button:focus-visible,.hubc input:focus-visible,.hubc a:focus-visible{outline:3px solid #ffbf47;outline-offset:2px}",
    ".hubc{font:15px/1.45 system-ui,sans-serif;color:#1d2330;background:#fff;display:flex;flex-direction:column;box-sizing:border-box}",
    ".hubc-float{position:fixed;right:1rem;bottom:4.8rem;width:22rem;max-width:calc(100vw - 2rem);height:32rem;max-height:calc(100vh - 6rem);z-index:2147483000;border-radius:.75rem;box-shadow:0 8px 30px rgba(0,0,0,.25)}",
    ".hubc-page{flex:1;min-height:70vh;border:1px solid #d5d9e0;border-radius:.5rem}",
    ".hubc[hidden]{display:none}",
    ".hubc header{display:flex;align-items:center;justify-content:space-between;padding:.6rem .9rem;background:#1f4fd1;color:#fff;border-radius:.75rem .75rem 0 0}",
    ".hubc header h2{font-size:1rem;margin:0}",
    ".hubc header button{background:transparent;border:0;color:#fff;font-size:1.4rem;min-width:44px;min-height:44px;cursor:pointer}",
    ".hubc-log{flex:1;overflow-y:auto;padding:.75rem;margin:0}",
    ".hubc-msg{margin:.4rem 0;padding:.5rem .7rem;border-radius:.6rem;max-width:88%;white-space:pre-wrap;overflow-wrap:anywhere}",
    ".hubc-user{background:#e6edff;margin-left:auto!important}",
    ".hubc-bot,.hubc-agent{background:#f1f2f4}",
    ".hubc-agent{border-left:4px solid #1f8a4c}",
    ".hubc-who{display:block;font-size:.8rem;font-weight:600;color:#4a5262}",
    ".hubc-log ul{padding-left:1.1rem;margin:.4rem 0}",
    ".hubc-log a{color:#1f4fd1}",
    ".hubc-excerpt{display:block;font-size:.85rem;color:#4a5262}",
    ".hubc-choices{display:flex;flex-wrap:wrap;gap:.4rem;margin-top:.4rem}",
    ".hubc-choices button{border:1px solid #1f4fd1;background:#fff;color:#1f4fd1;border-radius:1rem;padding:.35rem .8rem;min-height:44px;cursor:pointer}",
    ".hubc form{display:flex;gap:.4rem;padding:.6rem;border-top:1px solid #e1e4ea;flex-wrap:wrap}",
    ".hubc label{width:100%;font-size:.85rem;font-weight:600}",
    ".hubc input{flex:1;min-width:0;font-size:16px;padding:.55rem;border:1px solid #8a93a3;border-radius:.4rem}",
    ".hubc form button{min-height:44px;padding:0 1rem;border:0;border-radius:.4rem;background:#1f4fd1;color:#fff;font-weight:600;cursor:pointer}",
    ".hubc-status{font-size:.8rem;color:#8a1f1f;padding:0 .9rem;min-height:1.2em;margin:0}",
    ".hubc-resume{font-size:.8rem;padding:0 .9rem .5rem;margin:0}",
    "@media (max-width:600px){.hubc-launch[aria-expanded=true]{display:none}.hubc-float{right:0;bottom:0;width:100vw;max-width:100vw;height:100%;max-height:100%;border-radius:0}.hubc header{border-radius:0}}"
  ].join("\n");
  document.head.appendChild(css);

  var panelId = "hubc-panel-" + Math.random().toString(36).slice(2);
  var panel = el("section", { "class": "hubc " + (pageMode ? "hubc-page" : "hubc-float"), id: panelId,
                              role: pageMode ? "region" : "dialog", "aria-label": W.title });
  var header = el("header");
  header.appendChild(el("h2", {}, W.title));
  var closeBtn = el("button", { type: "button", "aria-label": W.close }, "\u00d7");
  if (!pageMode) { header.appendChild(closeBtn); }
  var log = el("div", { "class": "hubc-log", role: "log", "aria-live": "polite",
                       "aria-relevant": "additions", "aria-label": W.conversation });
  var status = el("p", { "class": "hubc-status", role: "status" });
  var resume = el("p", { "class": "hubc-resume" });
  var form = el("form");
  var inputId = panelId + "-input";
  form.appendChild(el("label", { "for": inputId }, W.your_message));
  var input = el("input", { id: inputId, type: "text", autocomplete: "off", maxlength: "1000",
                            enterkeyhint: "send" });
  form.appendChild(input);
  form.appendChild(el("button", { type: "submit" }, W.send));
  [header, log, status, resume, form].forEach(function (n) { panel.appendChild(n); });

  var launcher = null;
  if (pageMode) {
    var root = document.getElementById("hub-chat-root") || document.body;
    var old = document.getElementById("hub-chat-history");
    if (old) { old.remove(); }
    root.appendChild(panel);
  } else {
    panel.hidden = true;
    launcher = el("button", { type: "button", "class": "hubc-launch", "aria-expanded": "false",
                              "aria-controls": panelId }, W.launch);
    document.body.appendChild(panel);
    document.body.appendChild(launcher);
    launcher.addEventListener("click", function () { setOpen(panel.hidden); });
    closeBtn.addEventListener("click", function () { setOpen(false); });
    panel.addEventListener("keydown", function (e) { if (e.key === "Escape") { setOpen(false); } });
  }

  function setOpen(open) {
    panel.hidden = !open;
    launcher.setAttribute("aria-expanded", open ? "true" : "false");
    if (open) { if (!ws) { connect(); } input.focus(); } else { launcher.focus(); }
  }

  function send(frame) {
    if (ws && ws.readyState === 1) { ws.send(JSON.stringify(frame)); return true; }
    status.textContent = W.not_connected;
    return false;
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var text = input.value.trim();
    if (!text) { return; }
    if (text.length > maxChars) { status.textContent = W.too_long.replace("%(n)s", String(maxChars)); return; }
    if (send({ type: "message", text: text })) { input.value = ""; status.textContent = ""; }
  });

  function safeUrl(url) { return /^https?:\/\//i.test(url || "") ? url : null; }

  function render(msg) {
    var item = el("div", { "class": "hubc-msg hubc-" + (labels[msg.role] ? msg.role : "bot") });
    item.appendChild(el("span", { "class": "hubc-who" }, msg.author || labels[msg.role] || W.support));
    item.appendChild(document.createTextNode(msg.text));
    if (msg.articles && msg.articles.length) {
      var list = el("ul");
      msg.articles.forEach(function (a) {
        var li = el("li");
        var href = safeUrl(a.url);
        li.appendChild(href ? el("a", { href: href, target: "_blank", rel: "noopener noreferrer" }, a.title)
                            : el("span", {}, a.title));
        if (a.excerpt) { li.appendChild(el("span", { "class": "hubc-excerpt" }, a.excerpt)); }
        list.appendChild(li);
      });
      item.appendChild(list);
    }
    if (msg.choices && msg.choices.length) {
      var box = el("div", { "class": "hubc-choices", role: "group", "aria-label": W.quick_answers });
      msg.choices.forEach(function (c) {
        var b = el("button", { type: "button" }, c);
        b.addEventListener("click", function () { if (send({ type: "message", text: c })) { box.remove(); input.focus(); } });
        box.appendChild(b);
      });
      item.appendChild(box);
    }
    log.appendChild(item);
    log.scrollTop = log.scrollHeight;
  }

  function connect() {
    var url = base.replace(/^http/, "ws") + "/ws?tenant=" + encodeURIComponent(tenant) +
              "&lang=" + encodeURIComponent(W.lang) +
              (session ? "&session=" + encodeURIComponent(session) : "");
    var opened = false;
    ws = new WebSocket(url);
    ws.onopen = function () {
      opened = true; retries = 0; status.textContent = "";
      if (authToken) { send({ type: "auth", token: authToken }); }
    };
    ws.onmessage = function (ev) {
      var msg; try { msg = JSON.parse(ev.data); } catch (e) { return; }
      if (msg.type === "session") {
        if (msg.token !== session) { while (log.firstChild) { log.removeChild(log.firstChild); } }
        session = msg.token; store(session); maxChars = msg.max_chars || maxChars;
        input.setAttribute("maxlength", String(maxChars));
        resume.textContent = "";
        var link = el("a", { href: safeUrl(msg.resume_url) || "#" }, W.resume);
        resume.appendChild(link);
      } else if (msg.type === "message") {
        if (!log.querySelector('[data-id="' + Number(msg.id) + '"]')) { render(msg); log.lastChild.setAttribute("data-id", String(Number(msg.id))); }
      } else if (msg.type === "error") {
        status.textContent = msg.detail;
      }
    };
    ws.onclose = function (ev) {
      ws = null;
      // A refused handshake (unknown or expired conversation): start a new one.
      if (!opened && session && retries === 0) { session = ""; store(""); retries = 1; connect(); return; }
      if (ev.code === 4404 || ev.code === 1008) { status.textContent = W.unavailable; if (ev.code === 4404) { session = ""; store(""); } return; }
      if (retries < 8) {
        status.textContent = W.reconnecting;
        retries += 1;
        window.setTimeout(connect, Math.min(30000, 1000 * Math.pow(2, retries)));
      } else {
        status.textContent = W.disconnected;
      }
    };
  }

  if (pageMode) { connect(); }
})();
