// natter.js: presentation that depends on the viewer, not on the message,
// so it cannot be rendered once on the server for everyone: local times,
// day separators, and grouping consecutive messages from one author.
// Without it the page still works; every message shows its author and a
// UTC time. No inline script, no eval: it runs under the strict CSP.
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
  function markFresh(records) {
    records.forEach(function (record) {
      record.addedNodes.forEach(function (node) {
        if (node.nodeType === 1 && node.classList.contains("msg") && !node.nextElementSibling) {
          node.classList.add("fresh");
        }
      });
    });
  }

  function start() {
    document.addEventListener("submit", onSubmit, true);
    // Back from the room via history: no spinner left on the Join button.
    window.addEventListener("pageshow", function () {
      var busy = document.querySelector(".busy");
      if (busy) busy.classList.remove("busy");
    });
    var list = document.getElementById("messages");
    if (!list) return;
    decorate(list);
    new MutationObserver(function (records) {
      markFresh(records);
      decorate(list);
    }).observe(list, { childList: true });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
