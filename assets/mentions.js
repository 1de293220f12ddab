// mentions.js: typing @ in the composer offers the room's names (read
// from GET …/members, at most every 30 s); arrows move, Enter or Tab
// picks, Escape closes. A name with spaces is written with `_`, as the
// server reads mentions. No inline script, no eval: it runs under the
// strict CSP.
(function () {
  "use strict";

  var room;

  var names = null;
  var namesAt = 0;
  var choice = -1;

  function loadNames() {
    if (names && Date.now() - namesAt < 30000) return Promise.resolve(names);
    return window.fetch("/rooms/" + room + "/members", {
      headers: { "Accept": "application/json" }, credentials: "same-origin"
    }).then(function (response) { return response.ok ? response.json() : []; })
      .then(function (members) {
        names = members.map(function (m) { return m.name; });
        namesAt = Date.now();
        return names;
      }).catch(function () { return []; });
  }

  function typedMention(box) {
    var before = box.value.slice(0, box.selectionStart);
    var match = /(^|[^\w@])@([^\s@]{0,32})$/.exec(before);
    return match ? { prefix: match[2], start: before.length - match[2].length - 1 } : null;
  }

  function closeNames() {
    var menu = document.getElementById("mention-list");
    if (menu) { menu.hidden = true; menu.textContent = ""; }
    choice = -1;
  }

  function offerNames(box) {
    var typed = typedMention(box);
    if (!typed) { closeNames(); return; }
    loadNames().then(function (all) {
      var prefix = typed.prefix.toLowerCase().replace(/_/g, " ");
      var menu = document.getElementById("mention-list");
      var found = all.filter(function (name) { return name.toLowerCase().indexOf(prefix) === 0; }).slice(0, 6);
      if (!menu || found.length === 0) { closeNames(); return; }
      menu.textContent = "";
      found.forEach(function (name, i) {
        var item = document.createElement("li");
        item.setAttribute("role", "option");
        item.id = "mention-" + i;
        item.textContent = name;
        item.addEventListener("mousedown", function (event) { event.preventDefault(); pick(box, name); });
        menu.appendChild(item);
      });
      choice = 0;
      mark(menu, box);
      menu.hidden = false;
    });
  }

  function mark(menu, box) {
    Array.prototype.forEach.call(menu.children, function (item, i) {
      item.setAttribute("aria-selected", i === choice ? "true" : "false");
    });
    box.setAttribute("aria-activedescendant", choice >= 0 ? "mention-" + choice : "");
  }

  function pick(box, name) {
    var typed = typedMention(box);
    if (!typed) return;
    var token = "@" + name.replace(/ /g, "_") + " ";
    box.value = box.value.slice(0, typed.start) + token + box.value.slice(box.selectionStart);
    var caret = typed.start + token.length;
    box.setSelectionRange(caret, caret);
    closeNames();
    box.dispatchEvent(new Event("input", { bubbles: true }));
  }

  // Runs before forms.js's Enter-to-send: while names are offered, Enter
  // and Tab pick one.
  function onComposerKey(event) {
    var box = event.target;
    var menu = document.getElementById("mention-list");
    if (!box || box.id !== "body" || !menu || menu.hidden) return;
    var count = menu.children.length;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      choice = (choice + (event.key === "ArrowDown" ? 1 : count - 1)) % count;
      mark(menu, box);
    } else if ((event.key === "Enter" || event.key === "Tab") && choice >= 0) {
      pick(box, menu.children[choice].textContent);
    } else if (event.key === "Escape") {
      closeNames();
    } else {
      return;
    }
    event.preventDefault();
    event.stopPropagation();
  }

  function start() {
    if (!document.getElementById("messages") || !document.getElementById("mention-list")) return;
    room = window.location.pathname.split("/")[2];
    document.addEventListener("input", function (event) {
      if (event.target && event.target.id === "body") offerNames(event.target);
    });
    // Capture: before forms.js's Enter-to-send.
    document.addEventListener("keydown", onComposerKey, true);
    document.addEventListener("focusout", function (event) {
      if (event.target && event.target.id === "body") window.setTimeout(closeNames, 150);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
