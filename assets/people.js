// people.js: the people side of a room in the browser. The members panel
// and the "N here" count follow the stream's presence events; "alice is
// typing…" follows its typing events (and the composer sends ours, at most
// every 3 s); a hidden tab counts new messages in its title and, on
// return, a line marks the first one not seen; the room is marked read as
// it is seen (your rooms' counts are natter.js's);
// mentions of you ring a desktop notification once you allowed it (asked
// only after a click on 🔔). Typing @ in the composer is mentions.js's.
// No inline script, no eval: it runs under the strict CSP.
(function () {
  "use strict";

  var TYPING_EVERY_MS = 3000;
  var TYPING_HOLDS_MS = 5000;

  var list, room, baseTitle;
  var lastCursor = 0;

  function fragment(html) {
    var template = document.createElement("template");
    template.innerHTML = (html || "").trim();
    return template.content.firstElementChild;
  }

  function post(url, fields) {
    var body = new URLSearchParams();
    Object.keys(fields || {}).forEach(function (name) { body.append(name, fields[name]); });
    return window.fetch(url, {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "Content-Type": "application/x-www-form-urlencoded" }
    }).catch(function () { /* a courtesy: the next one will do */ });
  }

  // ---- Presence ----

  function onPresence(event) {
    var panel = fragment(event.detail && event.detail.data);
    var current = document.getElementById("members");
    if (!panel || panel.id !== "members" || !current) return;
    current.replaceWith(panel);
    var count = panel.querySelector(".here-count");
    var header = document.getElementById("here-count");
    if (count && header) header.textContent = count.textContent;
  }

  // ---- Typing ----

  var typists = {};
  var typingTimer = null;

  function showTypists() {
    var now = Date.now();
    var names = [];
    Object.keys(typists).forEach(function (id) {
      if (typists[id].until > now) names.push(typists[id].name);
      else delete typists[id];
    });
    var line = document.getElementById("typing");
    if (!line) return;
    if (names.length === 0) line.textContent = "";
    else if (names.length === 1) line.textContent = names[0] + " is typing…";
    else if (names.length === 2) line.textContent = names[0] + " and " + names[1] + " are typing…";
    else line.textContent = names.length + " people are typing…";
    window.clearTimeout(typingTimer);
    if (names.length) typingTimer = window.setTimeout(showTypists, 1000);
  }

  function onTyping(event) {
    var typist = fragment(event.detail && event.detail.data);
    if (!typist) return;
    var id = typist.getAttribute("data-member");
    if (!id || id === list.getAttribute("data-me")) return;
    typists[id] = { name: typist.textContent, until: Date.now() + TYPING_HOLDS_MS };
    showTypists();
  }

  var lastSent = 0;
  function onComposerInput(event) {
    var box = event.target;
    if (!box || box.id !== "body" || box.value.trim() === "") return;
    var now = Date.now();
    if (now - lastSent < TYPING_EVERY_MS) return;
    lastSent = now;
    post("/rooms/" + room + "/typing");
  }

  // ---- New messages: typing ends, unread while hidden, mentions ----

  var unseen = 0;
  var mentioned = false;
  // The seq of the first message not seen, not its element: an edit or a
  // reaction meanwhile replaces the element.
  var firstUnseen = null;

  function mentionsMe(message) {
    var me = list.getAttribute("data-mention");
    return !!(me && message.querySelector('.mention[data-mention="' + me + '"]'));
  }

  function updateTitle() {
    if (unseen === 0) { document.title = baseTitle; return; }
    document.title = "(" + unseen + ") " + (mentioned ? "@ " : "") + baseTitle;
  }

  function notify(message) {
    if (!("Notification" in window) || window.Notification.permission !== "granted") return;
    var author = message.querySelector(".author");
    var bubble = message.querySelector(".bubble");
    try {
      new window.Notification((author ? author.textContent : "natter") + " in " + room, {
        body: bubble ? bubble.textContent.slice(0, 200) : "",
        tag: "natter-" + room
      });
    } catch (e) { /* some browsers only notify from a service worker */ }
  }

  function onArrived(records) {
    records.forEach(function (record) {
      record.addedNodes.forEach(function (node) {
        if (node.nodeType !== 1 || !node.classList.contains("msg") || node.hasAttribute("data-replaced")) return;
        // A tombstone the replay brings was posted and deleted meanwhile:
        // nothing to read (the server's counts skip it too).
        if (node.classList.contains("deleted")) return;
        // A node with a next sibling is an older page, unless actions.js put
        // a new message that arrived late in its place.
        if (node.nextElementSibling && !node.hasAttribute("data-late")) return;
        var author = node.getAttribute("data-author");
        if (typists[author]) { delete typists[author]; showTypists(); }
        if (author === list.getAttribute("data-me")) return;
        if (document.hidden) {
          unseen++;
          // A message that arrived late can sit above the first one counted.
          var seq = Number(node.id.replace("message-", ""));
          if (firstUnseen === null || seq < firstUnseen) firstUnseen = seq;
          if (mentionsMe(node)) { mentioned = true; notify(node); }
          updateTitle();
        }
      });
    });
    scheduleRead();
  }

  function onVisible() {
    if (document.hidden) return;
    var first = firstUnseen === null ? null : document.getElementById("message-" + firstUnseen);
    if (first && list.contains(first)) {
      var old = list.querySelector(".unread-line");
      if (old) old.remove();
      var line = document.createElement("p");
      line.className = "unread-line";
      line.setAttribute("aria-hidden", "true"); // a visual marker: the log is not to announce it
      line.textContent = "New messages";
      first.parentNode.insertBefore(line, first);
    }
    unseen = 0; mentioned = false; firstUnseen = null;
    updateTitle();
    scheduleRead();
  }

  // ---- Read position and your rooms ----

  var readTimer = null;
  var readSent = 0;
  function scheduleRead() {
    window.clearTimeout(readTimer);
    readTimer = window.setTimeout(function () {
      if (document.hidden || lastCursor <= readSent) return;
      readSent = lastCursor;
      post("/rooms/" + room + "/read", { cursor: String(lastCursor) });
    }, 1000);
  }

  function onStreamMessage(event) {
    var id = Number(event.detail && event.detail.message && event.detail.message.id);
    if (id > lastCursor) lastCursor = id;
  }

  // ---- Notifications: asked for only after a click ----

  function setUpNotify() {
    var button = document.getElementById("notify");
    if (!button || !("Notification" in window) || window.Notification.permission !== "default") return;
    button.hidden = false;
    button.addEventListener("click", function () {
      window.Notification.requestPermission().then(function () { button.hidden = true; });
    });
  }

  function start() {
    list = document.getElementById("messages");
    if (!list) return;
    room = window.location.pathname.split("/")[2];
    baseTitle = document.title;
    var connect = /[?&]after=(\d+)/.exec(list.getAttribute("hx-sse:connect") || "");
    lastCursor = connect ? Number(connect[1]) : 0;
    list.addEventListener("presence", onPresence);
    list.addEventListener("typing", onTyping);
    list.addEventListener("htmx:sse:before:message", onStreamMessage);
    new MutationObserver(onArrived).observe(list, { childList: true });
    document.addEventListener("visibilitychange", onVisible);
    document.addEventListener("input", onComposerInput);
    setUpNotify();
    scheduleRead();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
