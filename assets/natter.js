// natter.js: what depends on the viewer and their browser, so it cannot be
// rendered once on the server for everyone: local times, day separators,
// grouping runs from one author, the state of the live connection, the
// "New messages" pill, links to a message, and your rooms' unread counts
// kept fresh. The composer and the forms are in forms.js.
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
        var edited = message.querySelector(".edited[data-at]");
        var at = edited ? new Date(edited.getAttribute("data-at")) : null;
        if (at && !isNaN(at.getTime())) edited.title = "Edited " + fullFormat.format(at);
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
        // A message replaced by its newer state (actions.js) is not new;
        // one the replay brought late, and put in its place above the
        // newest (data-late), is, unless it is a tombstone.
        if (node.nodeType === 1 && node.classList.contains("msg") &&
            (!node.nextElementSibling || node.hasAttribute("data-late")) &&
            !node.hasAttribute("data-replaced") && !node.classList.contains("deleted")) {
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
  // Presence is never replayed: who came and went while the stream was
  // down is read once it is back, and handed to the panel as a presence
  // event would be.
  function refreshPeople(list) {
    var room = window.location.pathname.split("/")[2];
    window.fetch("/rooms/" + room + "/members", {
      headers: { "HX-Request": "true" }, credentials: "same-origin"
    }).then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html) list.dispatchEvent(new CustomEvent("presence", { detail: { data: html } }));
      })
      .catch(function () { /* the next change brings it */ });
  }

  function watchConnection(list) {
    var status = document.getElementById("connection");
    if (!status || !list.hasAttribute("hx-sse:connect")) return;
    var wasDown = false;
    function show(down) {
      status.hidden = !down;
      if (down) wasDown = true;
    }
    list.addEventListener("htmx:sse:before:connection", function (event) {
      var connection = event.detail && event.detail.connection;
      if (connection && connection.attempt > 0) show(true);
    });
    list.addEventListener("htmx:sse:after:connection", function () {
      var back = wasDown;
      show(false);
      wasDown = false;
      if (back) refreshPeople(list);
    });
    list.addEventListener("htmx:sse:error", function (event) {
      show(true);
      // Refused: the membership has ended. The room page itself says why
      // (it sends the person to the join page with a sentence).
      if (event.detail && event.detail.status === 403) window.location.reload();
    });
    // The first connection is an ordinary htmx request: when it fails (no
    // network, or an answer that is no stream, such as 429 or 503), the
    // extension never takes over and so never retries. Retry it here, with
    // the same capped back-off, and keep the error text out of the list.
    var failures = 0;
    function connectAgain() {
      show(true);
      failures++;
      window.setTimeout(function () {
        if (list.isConnected && !(list._htmx && list._htmx.sse)) {
          window.htmx.ajax("GET", list.getAttribute("hx-sse:connect"), { source: list });
        }
      }, Math.min(500 * Math.pow(2, failures - 1), 3000));
    }
    list.addEventListener("htmx:after:request", function (event) {
      var ctx = event.target === list && event.detail && event.detail.ctx;
      var status = ctx && ctx.response ? ctx.response.status : 0;
      if (status < 400) return;
      event.preventDefault();
      if (status === 403) window.location.reload();
      else connectAgain();
    });
    list.addEventListener("htmx:error", function (event) {
      if (event.target === list) connectAgain();
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
  // A permalink page names its message (data-linked) when the URL has no
  // fragment.
  function goToLinkedMessage() {
    var list = document.getElementById("messages");
    var linked = list && list.getAttribute("data-linked");
    var match = /^#message-(\d+)$/.exec(window.location.hash) || (linked && [null, linked]);
    if (!match) return;
    var target = document.getElementById("message-" + match[1]);
    if (target) {
      target.scrollIntoView({ block: "center" });
      target.classList.add("linked");
    } else if (!linked && document.querySelector(".more") && !/[?&]before=/.test(window.location.search)) {
      window.location.replace(window.location.pathname + "?before=" + (Number(match[1]) + 1) + window.location.hash);
    }
  }

  // ---- Your rooms ----

  // The list of the session's rooms and their unread counts (in the room
  // page's people panel, and on the join page) is read again every 15 s
  // while the page is in view, and at once when it comes back to it. The
  // room being read never shows a count of its own.
  var ROOMS_EVERY_MS = 15000;

  function refreshRooms() {
    var nav = document.getElementById("my-rooms");
    if (!nav || document.hidden) return;
    window.fetch("/rooms", { headers: { "HX-Request": "true" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        var template = document.createElement("template");
        template.innerHTML = (html || "").trim();
        var fresh = template.content.firstElementChild;
        var current = document.getElementById("my-rooms");
        if (!fresh || fresh.id !== "my-rooms" || !current) return;
        var here = current.querySelector(".current a");
        fresh.querySelectorAll("a").forEach(function (link) {
          if (here && link.getAttribute("href") === here.getAttribute("href")) {
            link.parentNode.classList.add("current");
            link.setAttribute("aria-current", "page");
            var count = link.parentNode.querySelector(".unread");
            if (count) count.remove(); // this room is being read
          }
        });
        current.replaceWith(fresh);
      })
      .catch(function () { /* next time */ });
  }

  function start() {
    document.addEventListener("submit", onSubmit, true);
    if (document.getElementById("my-rooms")) {
      window.setInterval(refreshRooms, ROOMS_EVERY_MS);
      document.addEventListener("visibilitychange", refreshRooms);
    }
    // Back from the room via history: no spinner left on the Join button.
    window.addEventListener("pageshow", function () {
      var busy = document.querySelector(".busy");
      if (busy) busy.classList.remove("busy");
    });
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
