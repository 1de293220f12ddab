// forms.js: the composer and the join form, in the browser. The composer
// sends on Enter (Shift+Enter adds a line), grows with its text, keeps an
// unsent draft per room in localStorage, and says when a send fails, with
// a way to try again. The join form remembers the name used in each room.
// Without it the same forms post as plain HTML. No inline script, no eval:
// it runs under the strict CSP.
(function () {
  "use strict";

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
    document.addEventListener("submit", function (event) {
      if (event.target && event.target.classList.contains("card")) rememberName(event.target);
    }, true);
    document.addEventListener("input", onComposerInput);
    document.addEventListener("keydown", onComposerKey);
    document.addEventListener("htmx:after:request", onAfterRequest);
    document.addEventListener("htmx:error", onRequestError);
    document.addEventListener("htmx:after:swap", setUpComposer);
    offerName();
    setUpComposer();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
