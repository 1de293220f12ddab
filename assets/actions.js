// actions.js: changing messages in the browser. Each message's ⋯ opens a
// small menu (the six reactions, and Edit and Delete on one's own), edits
// happen in place, reaction chips toggle on a click, and every change that
// arrives on the live stream replaces the message it changes. Without it,
// ⋯ is a link to a page of plain forms, and chips are plain forms too.
// No inline script, no eval: it runs under the strict CSP.
(function () {
  "use strict";

  var EMOJI = ["👍", "❤️", "😂", "🎉", "😮", "👀"];

  function list() { return document.getElementById("messages"); }

  function me() {
    var messages = list();
    return messages ? messages.getAttribute("data-me") : null;
  }

  function seqOf(element) {
    var match = /^message-(\d+)$/.exec(element.id || "");
    return match ? Number(match[1]) : null;
  }

  function cursorOf(element) {
    return Number(element.getAttribute("data-cursor") || 0);
  }

  // ---- Merging a message into the page ----

  // The first message element of an HTML fragment, if it holds one.
  function parse(html) {
    var template = document.createElement("template");
    template.innerHTML = html.trim();
    var first = template.content.firstElementChild;
    return first && first.classList.contains("msg") && seqOf(first) !== null ? first : null;
  }

  // Puts a message, in the state it carries, where it belongs. Returns
  // false when it is new and belongs at the bottom (the caller appends).
  // A state older than the one shown is dropped (an answer and the stream
  // may arrive in either order), and so is a change to a message older
  // than the history loaded: it is not in view, and it must not land at
  // the bottom. A replay sends each message once, in the order of its
  // latest change, so a message posted while the page was cut off can
  // come after a newer one: it goes in before the first one shown that is
  // newer, marked data-late so that people.js still counts it as new.
  function merge(incoming) {
    var current = document.getElementById(incoming.id);
    if (current) {
      if (cursorOf(incoming) >= cursorOf(current)) {
        incoming.setAttribute("data-replaced", "");
        var waiting = current.natterWaiting;
        if (!current.querySelector(".edit-inline") || incoming.classList.contains("deleted")) {
          current.replaceWith(incoming);
        } else if (!waiting || cursorOf(incoming) >= cursorOf(waiting)) {
          current.natterWaiting = incoming; // editing: the box stays, see endEdit
        }
      }
      return true;
    }
    var shown = list() ? list().querySelectorAll(".msg") : [];
    var seq = seqOf(incoming);
    if (!shown.length || seq > seqOf(shown[shown.length - 1])) return false;
    if (seq < seqOf(shown[0])) return true;
    var next = Array.prototype.find.call(shown, function (m) { return seqOf(m) > seq; });
    incoming.setAttribute("data-late", "");
    if (next) next.before(incoming);
    return true;
  }

  // Every event of the stream passes here first: a change to a message on
  // screen replaces it in place; only a new message is left to htmx, which
  // appends it.
  function onStreamMessage(event) {
    var message = event.detail && event.detail.message;
    if (!message || message.event || !message.data) return;
    var incoming = parse(message.data);
    if (incoming && merge(incoming)) event.detail.cancelled = true;
  }

  // ---- Talking to the server ----

  var toastTimer = null;

  function toast(text) {
    var box = document.getElementById("toast");
    if (!box) return;
    box.textContent = text;
    box.hidden = false;
    window.clearTimeout(toastTimer);
    toastTimer = window.setTimeout(function () { box.hidden = true; }, 5000);
  }

  // POSTs `fields` to `url` as a form, as htmx would, and merges the
  // message the server answers with (the stream brings it too).
  function send(url, fields) {
    var body = new URLSearchParams();
    Object.keys(fields).forEach(function (name) { body.append(name, fields[name]); });
    return window.fetch(url, {
      method: "POST",
      headers: { "HX-Request": "true", "Content-Type": "application/x-www-form-urlencoded" },
      body: body,
      credentials: "same-origin"
    }).then(function (response) {
      return response.text().then(function (text) {
        if (!response.ok) throw new Error(text.trim() || "That did not work. Please try again.");
        var incoming = parse(text);
        if (incoming) merge(incoming);
      });
    }).catch(function (error) {
      toast(error && error.message ? error.message : "natter cannot be reached. Please try again.");
    });
  }

  // `/rooms/{room}/messages/{seq}` and, with an action, `…/{action}`.
  function urlOf(article, action) {
    var room = window.location.pathname.split("/")[2];
    var url = "/rooms/" + room + "/messages/" + seqOf(article);
    return action ? url + "/" + action : url;
  }

  // ---- The menu ----

  function closeMenus(except) {
    document.querySelectorAll(".msg .menu").forEach(function (menu) {
      if (menu !== except) menu.remove();
    });
  }

  function button(className, text, label) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = className;
    b.textContent = text;
    if (label) b.setAttribute("aria-label", label);
    return b;
  }

  function openMenu(article, link) {
    var existing = article.querySelector(".menu");
    closeMenus(null);
    if (existing) return;
    var menu = document.createElement("div");
    menu.className = "menu";
    menu.setAttribute("role", "group");
    menu.setAttribute("aria-label", "Message actions");
    EMOJI.forEach(function (emoji) {
      var react = button("react-button", emoji, "React with " + emoji);
      react.value = emoji;
      menu.appendChild(react);
    });
    if (article.getAttribute("data-author") === me()) {
      menu.appendChild(button("menu-edit", "Edit"));
      menu.appendChild(button("menu-delete", "Delete"));
    }
    link.parentNode.insertBefore(menu, link.nextSibling);
    var first = menu.querySelector("button");
    if (first) first.focus();
  }

  // The box starts with the text as it was typed (the bubble shows it
  // formatted), read from the message's JSON.
  function startEdit(article) {
    var bubble = article.querySelector(".bubble");
    if (!bubble || article.querySelector(".edit-inline")) return;
    window.fetch(urlOf(article, ""), { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error("This message cannot be edited now.");
        return response.json();
      })
      .then(function (message) {
        if (typeof message.body === "string") openEditor(article, bubble, message.body);
      })
      .catch(function (error) { toast(error.message); });
  }

  function openEditor(article, bubble, text) {
    if (article.querySelector(".edit-inline")) return;
    var form = document.createElement("form");
    form.className = "edit-inline";
    var box = document.createElement("textarea");
    box.name = "body";
    box.value = text;
    box.setAttribute("dir", "auto");
    box.setAttribute("aria-label", "Edit your message");
    box.maxLength = 2000;
    box.rows = Math.min(8, box.value.split("\n").length + 1);
    var save = document.createElement("button");
    save.type = "submit";
    save.textContent = "Save";
    var cancel = button("cancel", "Cancel");
    form.appendChild(box);
    form.appendChild(save);
    form.appendChild(cancel);
    bubble.hidden = true;
    bubble.parentNode.insertBefore(form, bubble.nextSibling);
    box.focus();
    box.setSelectionRange(box.value.length, box.value.length);
  }

  // Closing the box shows the newest state that came while it was open
  // (a reaction, an edit from another tab). After Save, the server's
  // answer is newer still and merges over it.
  function endEdit(form) {
    var article = form.closest(".msg");
    var bubble = article && article.querySelector(".bubble");
    if (bubble) bubble.hidden = false;
    form.remove();
    var waiting = article && article.natterWaiting;
    if (waiting && cursorOf(waiting) > cursorOf(article)) article.replaceWith(waiting);
  }

  function onClick(event) {
    var target = event.target;
    if (!(target instanceof Element)) return;
    var article = target.closest(".msg");
    var link = target.closest("a.act");
    if (link && article && list() && list().contains(article)) {
      event.preventDefault();
      openMenu(article, link);
      return;
    }
    if (!article) { closeMenus(null); return; }
    if (target.closest(".react-button")) {
      closeMenus(null);
      send(urlOf(article, "reactions"), { emoji: target.closest(".react-button").value });
    } else if (target.closest(".menu-edit")) {
      closeMenus(null);
      startEdit(article);
    } else if (target.closest(".menu-delete")) {
      var confirm = target.closest(".menu-delete");
      confirm.className = "menu-delete-confirm";
      confirm.textContent = "Delete for everyone?";
      confirm.focus();
    } else if (target.closest(".menu-delete-confirm")) {
      closeMenus(null);
      send(urlOf(article, "delete"), {});
    } else if (target.closest(".edit-inline .cancel")) {
      endEdit(target.closest(".edit-inline"));
    }
  }

  function onSubmit(event) {
    var form = event.target;
    var article = form && form.closest && form.closest(".msg");
    if (!article || !list() || !list().contains(article)) return;
    if (form.classList.contains("chip")) {
      event.preventDefault();
      var chip = event.submitter || form.querySelector("button");
      send(urlOf(article, "reactions"), { emoji: chip.value });
    } else if (form.classList.contains("edit-inline")) {
      event.preventDefault();
      var text = form.querySelector("textarea").value;
      endEdit(form);
      send(urlOf(article, "edit"), { body: text });
    }
  }

  function onKey(event) {
    var target = event.target;
    if (event.key === "Escape") {
      var editing = target.closest && target.closest(".edit-inline");
      if (editing) endEdit(editing);
      closeMenus(null);
    } else if (event.key === "Enter" && !event.shiftKey && !event.isComposing &&
               target.matches && target.matches(".edit-inline textarea")) {
      event.preventDefault();
      target.form.requestSubmit();
    }
  }

  // The viewer's own reactions say so to assistive technology too (the
  // highlight itself is mine.css's).
  function markPressed() {
    var id = me();
    if (!id) return;
    document.querySelectorAll(".reaction").forEach(function (chip) {
      var by = (chip.getAttribute("data-by") || "").split(" ");
      chip.setAttribute("aria-pressed", by.indexOf(id) >= 0 ? "true" : "false");
    });
  }

  function start() {
    var messages = list();
    if (!messages) return;
    messages.addEventListener("htmx:sse:before:message", onStreamMessage);
    document.addEventListener("click", onClick);
    document.addEventListener("submit", onSubmit);
    document.addEventListener("keydown", onKey);
    markPressed();
    new MutationObserver(markPressed).observe(messages, { childList: true, subtree: true });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
