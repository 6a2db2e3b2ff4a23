// @mentions in note bodies: typing "@" offers the group's members (keyboard and touch), and a line beside the
// form says who a mention will not reach because the note's audience leaves them out. No inline scripts (CSP).
(function () {
  "use strict";

  // A mention is "@username" not preceded by a letter, digit, "." or "@" (readings/mentions.py says the same).
  const MENTION = /(^|[^\p{L}\p{N}_.@])@([\p{L}\p{N}_.+-]+)/gu;
  const TYPING = /(^|[^\p{L}\p{N}_.@])@([\p{L}\p{N}_.+-]*)$/u;
  const MAX_SHOWN = 8;
  let counter = 0;

  function fold(text) { return text.toLocaleLowerCase(); }

  function attach(textarea) {
    const source = document.getElementById(textarea.dataset.mentionSource);
    if (!source) return;
    const members = JSON.parse(source.textContent);
    const self = textarea.dataset.mentionSelf || "";
    const form = textarea.form;
    const audienceLine = form ? form.querySelector("[data-mention-audience]") : null;
    const list = document.createElement("ul");
    const listId = "mention-picker-" + (++counter);
    list.id = listId;
    list.className = "mention-picker";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", "Members to mention");
    list.hidden = true;
    textarea.insertAdjacentElement("afterend", list);
    textarea.setAttribute("aria-autocomplete", "list");
    textarea.setAttribute("aria-controls", listId);

    let shown = [];
    let active = 0;
    let typed = null; // {start, end}: where "@query" sits in the textarea

    function close() {
      list.hidden = true;
      shown = [];
      typed = null;
      textarea.removeAttribute("aria-activedescendant");
    }

    function highlight(index) {
      active = index;
      Array.prototype.forEach.call(list.children, function (item, i) {
        item.setAttribute("aria-selected", i === index ? "true" : "false");
        if (i === index) {
          textarea.setAttribute("aria-activedescendant", item.id);
          item.scrollIntoView({ block: "nearest" });
        }
      });
    }

    function open() {
      const before = textarea.value.slice(0, textarea.selectionStart);
      const match = textarea.selectionStart === textarea.selectionEnd ? TYPING.exec(before) : null;
      if (!match) return close();
      const query = fold(match[2]);
      shown = members.filter(function (member) {
        return member.username !== self && (fold(member.username).startsWith(query) ||
          fold(member.name).split(/\s+/).some(function (word) { return word.startsWith(query); }));
      }).slice(0, MAX_SHOWN);
      if (!shown.length) return close();
      typed = { start: before.length - match[2].length - 1, end: before.length };
      list.replaceChildren.apply(list, shown.map(function (member, i) {
        const item = document.createElement("li");
        item.id = listId + "-" + i;
        item.setAttribute("role", "option");
        item.dataset.index = String(i);
        const name = document.createElement("span");
        name.textContent = member.name;
        const username = document.createElement("span");
        username.className = "mention-username";
        username.textContent = "@" + member.username;
        item.append(name, username);
        return item;
      }));
      // Under the textarea, never over the words being typed.
      list.style.top = textarea.offsetTop + textarea.offsetHeight + "px";
      list.style.left = textarea.offsetLeft + "px";
      list.hidden = false;
      highlight(Math.min(active, shown.length - 1));
    }

    function choose(index) {
      const member = shown[index];
      if (!member || !typed) return;
      const value = textarea.value;
      const insert = "@" + member.username + " ";
      textarea.value = value.slice(0, typed.start) + insert + value.slice(typed.end).replace(/^ /, "");
      const caret = typed.start + insert.length;
      textarea.setSelectionRange(caret, caret);
      close();
      textarea.focus();
      textarea.dispatchEvent(new Event("input", { bubbles: true }));
    }

    // Who a mention will not reach: everyone but the author in an "Only me" note; those without
    // facilitator rights in a "Facilitators" one. Replies take their thread's audience (the server says).
    function explainAudience() {
      if (!audienceLine) return;
      const choice = form.querySelector('input[name="visibility"]:checked');
      const fieldset = form.querySelector('[data-field="visibility"]');
      const visibility = choice && fieldset && !fieldset.hidden ? choice.value : "";
      const byName = {};
      members.forEach(function (member) { byName[fold(member.username)] = member; });
      const left = [];
      for (const match of textarea.value.matchAll(MENTION)) {
        const member = byName[fold(match[2].replace(/[.-]+$/, ""))];
        if (!member || member.username === self || left.indexOf(member) !== -1) continue;
        if (visibility === "private" || (visibility === "facilitators" && !member.facilitator)) left.push(member);
      }
      if (!left.length) {
        audienceLine.hidden = true;
        audienceLine.textContent = "";
        return;
      }
      const names = left.map(function (member) { return member.name; }).join(", ");
      audienceLine.textContent = visibility === "private"
        ? names + " will not be told: only you can see this note."
        : names + " will not be told: only facilitators and organizers can see this note.";
      audienceLine.hidden = false;
    }

    textarea.addEventListener("input", function () { open(); explainAudience(); });
    textarea.addEventListener("click", open);
    textarea.addEventListener("blur", function () { window.setTimeout(close, 150); });
    textarea.addEventListener("keydown", function (event) {
      if (list.hidden) return;
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        const step = event.key === "ArrowDown" ? 1 : -1;
        highlight((active + step + shown.length) % shown.length);
      } else if (event.key === "Enter" || event.key === "Tab") {
        if (event.ctrlKey || event.metaKey) return;
        event.preventDefault();
        choose(active);
      } else if (event.key === "Escape") {
        event.preventDefault();
        event.stopPropagation(); // the picker closes, not the note form
        close();
      }
    });
    // Keep the focus in the textarea while a finger or the mouse picks a member.
    list.addEventListener("pointerdown", function (event) { event.preventDefault(); });
    list.addEventListener("mousedown", function (event) { event.preventDefault(); });
    list.addEventListener("click", function (event) {
      const item = event.target.closest("[role=option]");
      if (item) choose(Number(item.dataset.index));
    });
    if (form) {
      form.addEventListener("change", function (event) {
        if (event.target.name === "visibility") explainAudience();
      });
      // The form is reused for each note; a fresh one starts with no warning and no picker.
      new MutationObserver(function () { close(); explainAudience(); }).observe(form, {
        attributes: true, attributeFilter: ["hidden"],
      });
    }
  }

  document.querySelectorAll("textarea[data-mention-source]").forEach(attach);
})();
