// natter.js: what depends on the viewer and their browser, so it cannot be
// rendered once on the server for everyone: local times, day separators,
// grouping runs from one author, the state of the live connection and of
// each send, the composer's keys and draft, and the "New messages" pill.
// Without it the page still works: plain forms, links to older pages, and
// every message shows its author and a UTC time. No inline script, no
// eval: it runs under the strict CSP.
(function () {
  "use strict";

  var GROUP_GAP_MS = 5 * 60 * 1000;
  var timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
  var fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "full", timeStyle: "short" });
  var dayFormat = new Intl.DateTimeFormat(undefined, { weekday: "long", day: "numeric", month: "long" });
  var yearFormat = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "long", year: "numeric" });

  function dayKey(date) {
    return date.getFullYear() + "-" + date.getMonth() + "-" + date.getDate();
  }

  function dayLabel(date) {
    var today = new Date();
    var yesterday = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 1);
    if (dayKey(date) === dayKey(today)) return "Today";
    if (dayKey(date) === dayKey(yesterday)) return "Yesterday";
    return (date.getFullYear() === today.getFullYear() ? dayFormat : yearFormat).format(date);
  }

  // Walks the list oldest first; cheap enough for the few hundred messages
  // a page holds, and it fixes up the boundary when older pages arrive.
  function decorate(list) {
    var previous = null;
    var messages = list.querySelectorAll(".msg");
    for (var i = 0; i < messages.length; i++) {
      var message = messages[i];
      var time = message.querySelector("time");
      var when = time ? new Date(time.getAttribute("datetime")) : null;
      if (!when || isNaN(when.getTime())) { previous = null; continue; }
      if (!message.hasAttribute("data-local")) {
        time.textContent = timeFormat.format(when);
        time.title = fullFormat.format(when);
        message.setAttribute("data-local", "");
      }
      var day = dayKey(when);
      var newDay = !previous || previous.day !== day;
      var grouped = !newDay && previous.author === message.getAttribute("data-author") &&
        when - previous.when < GROUP_GAP_MS;
      message.classList.toggle("new-day", newDay);
      message.classList.toggle("grouped", grouped);
      if (newDay) message.setAttribute("data-day", dayLabel(when));
      else message.removeAttribute("data-day");
      previous = { day: day, author: message.getAttribute("data-author"), when: when };
    }
  }

  // After sending, show the bottom of the conversation, where one's own
  // message is about to appear. Joining shows a spinner until the room loads.
  function onSubmit(event) {
    var form = event.target;
    if (form && form.id === "composer") {
      var scroller = document.querySelector(".scroller");
      if (scroller) scroller.scrollTop = 0; // column-reverse: 0 is the bottom
    } else if (form && form.classList.contains("card")) {
      var button = form.querySelector("button[type=submit]");
      if (button) button.classList.add("busy");
    }
  }

  // Messages that arrive live fade in (natter.css; not with reduced motion).
  // Says whether any arrived.
  function markFresh(records) {
    var any = false;
    records.forEach(function (record) {
      record.addedNodes.forEach(function (node) {
        if (node.nodeType === 1 && node.classList.contains("msg") && !node.nextElementSibling) {
          node.classList.add("fresh");
          any = true;
        }
      });
    });
    return any;
  }

  // ---- The live connection ----

  // "Reconnecting…" shows from the moment the stream drops until it is
  // back. The extension backs off between attempts (capped at a few seconds
  // in layout.html's htmx config); coming back online or to the tab cuts
  // the current wait short, since that is when the network usually returns.
  function watchConnection(list) {
    var status = document.getElementById("connection");
    if (!status || !list.hasAttribute("hx-sse:connect")) return;
    function show(down) { status.hidden = !down; }
    list.addEventListener("htmx:sse:before:connection", function (event) {
      var connection = event.detail && event.detail.connection;
      if (connection && connection.attempt > 0) show(true);
    });
    list.addEventListener("htmx:sse:after:connection", function () { show(false); });
    list.addEventListener("htmx:sse:error", function (event) {
      show(true);
      // Refused: the membership has ended. The room page itself says why
      // (it sends the person to the join page with a sentence).
      if (event.detail && event.detail.status === 403) window.location.reload();
    });
    function retryNow() {
      var connection = list._htmx && list._htmx.sse;
      if (connection && connection.delayCanceller) connection.delayCanceller();
    }
    window.addEventListener("online", retryNow);
    document.addEventListener("visibilitychange", function () {
      if (!document.hidden) retryNow();
    });
  }

  // ---- The composer ----

  var MAX_LINES_PX = 160;

  function draftKey(form) {
    return "natter:draft:" + (form.getAttribute("data-room") || "");
  }

  function store(action, key, value) {
    // Storage may be off or full (private windows): drafts are a comfort.
    try {
      if (action === "get") return window.localStorage.getItem(key);
      if (action === "set") window.localStorage.setItem(key, value);
      else window.localStorage.removeItem(key);
    } catch (e) { /* ignored */ }
    return null;
  }

  function grow(box) {
    if (window.CSS && CSS.supports && CSS.supports("field-sizing", "content")) return;
    box.style.height = "auto";
    box.style.height = Math.min(box.scrollHeight + 4, MAX_LINES_PX) + "px";
  }

  // A fresh composer (on load, or swapped in after a send) gets back the
  // draft kept for its room, unless the server already put text in it.
  function setUpComposer() {
    var form = document.getElementById("composer");
    var box = form && form.querySelector("textarea");
    if (!box || box.hasAttribute("data-ready")) return;
    box.setAttribute("data-ready", "");
    if (box.value === "") {
      var draft = store("get", draftKey(form));
      if (draft) box.value = draft;
    }
    grow(box);
  }

  function onComposerInput(event) {
    var box = event.target;
    if (!box || box.id !== "body" || !box.form) return;
    if (box.value.trim() === "") store("remove", draftKey(box.form));
    else store("set", draftKey(box.form), box.value);
    grow(box);
  }

  // Enter sends and Shift+Enter starts a new line; so does Enter while an
  // input method is composing a character.
  function onComposerKey(event) {
    var box = event.target;
    if (!box || box.id !== "body" || event.key !== "Enter") return;
    if (event.shiftKey || event.altKey || event.ctrlKey || event.metaKey || event.isComposing) return;
    event.preventDefault();
    if (box.form && box.form.requestSubmit) box.form.requestSubmit();
  }

  // Shows why a send failed, next to the composer, with a way to try again.
  // The text stays in the box (and in the saved draft).
  function sendFailed(form, sentence) {
    var error = document.getElementById("composer-error");
    if (!error) {
      error = document.createElement("p");
      error.id = "composer-error";
      error.className = "field-error";
      error.setAttribute("role", "alert");
      form.appendChild(error);
    }
    error.textContent = sentence + " ";
    var retry = document.createElement("button");
    retry.type = "submit";
    retry.className = "retry";
    retry.textContent = "Try again";
    error.appendChild(retry);
    var box = form.querySelector("textarea");
    if (box) box.setAttribute("aria-describedby", "composer-error");
  }

  function isComposer(event) {
    return event.target && event.target.id === "composer";
  }

  function onAfterRequest(event) {
    if (!isComposer(event)) return;
    var ctx = event.detail && event.detail.ctx;
    var status = ctx && ctx.response ? ctx.response.status : 0;
    if (status > 0 && status < 400) {
      store("remove", draftKey(event.target));
    } else if (status >= 400 && (ctx.text || "").indexOf('id="composer"') < 0) {
      // Not natter's composer (a proxy's error page, say): keep the form.
      event.preventDefault();
      sendFailed(event.target, "Not sent: the server answered " + status + ". Your message is kept.");
    }
  }

  function onRequestError(event) {
    if (!isComposer(event)) return;
    sendFailed(event.target, "Not sent: natter cannot be reached. Your message is kept.");
  }

  // ---- Scrolling ----

  function scroller() { return document.querySelector(".scroller"); }

  // column-reverse: 0 is the bottom and reading back goes negative.
  function awayFromBottom(s) { return Math.abs(s.scrollTop) > 80; }

  function toBottom() {
    var s = scroller();
    if (s) s.scrollTop = 0;
    var pill = document.getElementById("new-messages");
    if (pill) pill.hidden = true;
  }

  function showPill() {
    var s = scroller();
    var pill = document.getElementById("new-messages");
    if (s && pill && awayFromBottom(s)) pill.hidden = false;
  }

  // `/rooms/x#message-5`: show that message; if it is older than the page,
  // open the older page that ends with it (once, so no loop).
  function goToLinkedMessage() {
    var match = /^#message-(\d+)$/.exec(window.location.hash);
    if (!match) return;
    var target = document.getElementById("message-" + match[1]);
    if (target) {
      target.scrollIntoView({ block: "center" });
      target.classList.add("linked");
    } else if (document.querySelector(".more") && !/[?&]before=/.test(window.location.search)) {
      window.location.replace(window.location.pathname + "?before=" + (Number(match[1]) + 1) + window.location.hash);
    }
  }

  // ---- The join page ----

  // The name someone used in a room is remembered in this browser, so the
  // join page can offer it again after a session has ended entirely.
  function rememberName(form) {
    var name = form.querySelector("#username");
    var room = form.querySelector("#room");
    if (name && room && name.value.trim() && room.value.trim()) {
      store("set", "natter:name:" + room.value.trim().toLowerCase(), name.value.trim());
    }
  }

  function offerName() {
    var name = document.getElementById("username");
    var room = document.getElementById("room");
    if (!name || !room || name.value !== "" || room.value === "") return;
    var known = store("get", "natter:name:" + room.value.trim().toLowerCase());
    if (known) name.value = known;
  }

  function start() {
    document.addEventListener("submit", onSubmit, true);
    document.addEventListener("submit", function (event) {
      if (event.target && event.target.classList.contains("card")) rememberName(event.target);
    }, true);
    document.addEventListener("input", onComposerInput);
    document.addEventListener("keydown", onComposerKey);
    document.addEventListener("htmx:after:request", onAfterRequest);
    document.addEventListener("htmx:error", onRequestError);
    document.addEventListener("htmx:after:swap", setUpComposer);
    // Back from the room via history: no spinner left on the Join button.
    window.addEventListener("pageshow", function () {
      var busy = document.querySelector(".busy");
      if (busy) busy.classList.remove("busy");
    });
    offerName();
    setUpComposer();
    // "Team-Chat" became team-chat is said once: a refresh drops it.
    if (/[?&]from=/.test(window.location.search) && window.history.replaceState) {
      window.history.replaceState(null, "", window.location.pathname + window.location.hash);
    }
    var list = document.getElementById("messages");
    if (!list) return;
    decorate(list);
    watchConnection(list);
    var pill = document.getElementById("new-messages");
    if (pill) pill.addEventListener("click", toBottom);
    var s = scroller();
    if (s) s.addEventListener("scroll", function () {
      if (pill && !awayFromBottom(s)) pill.hidden = true;
    }, { passive: true });
    new MutationObserver(function (records) {
      if (markFresh(records)) showPill();
      decorate(list);
    }).observe(list, { childList: true });
    goToLinkedMessage();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
