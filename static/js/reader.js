// The reading view (/sessions/<id>/read/): select words to write a note; reply, edit, delete,
// re-attach. Plain ES2017, no build step; no inline scripts or handlers (the CSP forbids them).
//
// Every write goes through the JSON API (/api/v1/notes/) with fetch, so the services are the one
// write path and the API's validation messages are shown in the form. After a write, the passage
// (or the "Notes whose words changed" section) is swapped for a fresh server-rendered fragment
// with htmx, so new highlights appear without a reload.
//
// Offsets: a passage body element holds only the passage text and <mark> elements, so offsets
// taken from a DOM Range over it are offsets into Passage.body, in UTF-16 code units. The API
// wants code points (Python string indices), so astral characters (emoji, which are two UTF-16
// units) count once: see codePointLength().
(function () {
  "use strict";

  const reader = document.getElementById("reader");
  const form = document.getElementById("note-form");
  if (!reader || !form) return;

  const notesApi = form.dataset.notesApi;
  const statusLine = document.getElementById("reader-status");
  const dockedLayout = window.matchMedia("(max-width: 40rem)");
  const body = form.elements.namedItem("body");
  const title = form.querySelector("[data-form-title]");
  const quotePreview = form.querySelector("[data-quote]");
  const submitButton = form.querySelector("[data-submit]");
  const canHighlight = typeof window.Highlight === "function" && window.CSS && CSS.highlights;

  // What the open form is for: {mode: "new"|"reply"|"edit", passageId, selector, parentId, noteId,
  // isReply, opener}.
  let current = null;
  let lastPointer = "mouse";
  let touchTimer = null;

  // --- Helpers ---------------------------------------------------------------------------------

  function announce(message) {
    if (!statusLine) return;
    statusLine.textContent = "";
    window.setTimeout(function () { statusLine.textContent = message; }, 50);
  }

  function isHighSurrogate(code) { return code >= 0xd800 && code <= 0xdbff; }
  function isLowSurrogate(code) { return code >= 0xdc00 && code <= 0xdfff; }

  // How many Unicode code points `text` holds: a surrogate pair (an astral character such as
  // an emoji) is two UTF-16 code units but one code point, one Python string index.
  function codePointLength(text) {
    let count = 0;
    for (let i = 0; i < text.length; i++) {
      if (isHighSurrogate(text.charCodeAt(i)) && i + 1 < text.length && isLowSurrogate(text.charCodeAt(i + 1))) i++;
      count++;
    }
    return count;
  }

  // The UTF-16 offset of the boundary point (node, offset) from the start of `element`'s text.
  function utf16OffsetIn(element, node, offset) {
    const range = document.createRange();
    range.setStart(element, 0);
    range.setEnd(node, offset);
    return range.toString().length;
  }

  function rowOf(element) { return element ? element.closest(".passage-row") : null; }
  function rowById(passageId) { return reader.querySelector('.passage-row[data-passage-id="' + passageId + '"]'); }

  // The current selection as a selector into one passage body, or null. A selection reaching
  // past the body's end by whitespace only (a triple click) is cut back to the body; one that
  // reaches into another passage is refused.
  function selectorFromSelection(onlyInRow) {
    const selection = window.getSelection();
    if (!selection || selection.rangeCount === 0 || selection.isCollapsed) return null;
    const range = selection.getRangeAt(0);
    const startNode = range.startContainer.nodeType === 1 ? range.startContainer : range.startContainer.parentElement;
    const passageBody = startNode ? startNode.closest("[data-passage-body]") : null;
    if (!passageBody || !reader.contains(passageBody)) return null;
    if (onlyInRow && rowOf(passageBody) !== onlyInRow) return null;
    const text = passageBody.textContent;
    let start = utf16OffsetIn(passageBody, range.startContainer, range.startOffset);
    let end;
    if (passageBody.contains(range.endContainer)) {
      end = utf16OffsetIn(passageBody, range.endContainer, range.endOffset);
    } else {
      const spill = document.createRange();
      spill.setStart(passageBody, passageBody.childNodes.length);
      spill.setEnd(range.endContainer, range.endOffset);
      if (spill.toString().trim() !== "") return { crossesPassages: true };
      end = text.length;
    }
    while (start < end && /\s/.test(text[start])) start++;
    while (end > start && /\s/.test(text[end - 1])) end--;
    if (start >= end) return null;
    // Never cut an astral character in half.
    if (isLowSurrogate(text.charCodeAt(start))) start--;
    if (end < text.length && isLowSurrogate(text.charCodeAt(end))) end++;
    const exact = text.slice(start, end);
    const startPoint = codePointLength(text.slice(0, start));
    return {
      passageBody: passageBody,
      range: range.cloneRange(),
      selector: { start: startPoint, end: startPoint + codePointLength(exact), exact: exact },
    };
  }

  // --- Margin notes (wide screens) -----------------------------------------------------------
  // In the two-column layout each passage's notes start level with it. A passage with many notes
  // would stretch its row and open a gap in the text; instead, notes that run past their passage
  // hang into the margin beside the passages below, pushing later notes down (as margin comments
  // do), and the text keeps its rhythm. Without JavaScript the rows simply stretch.
  const NOTES_GAP = 12;
  let layoutQueued = false;

  function twoColumns(row) {
    return getComputedStyle(row).gridTemplateColumns.split(" ").length > 1;
  }

  function layoutMarginNotes() {
    layoutQueued = false;
    const sections = reader.querySelectorAll(".reading");
    const all = reader.querySelectorAll(".passage-row > .passage-notes");
    all.forEach(function (notes) { notes.style.marginTop = notes.style.marginBottom = ""; });
    sections.forEach(function (section) { section.style.paddingBottom = ""; });
    const first = reader.querySelector(".passage-row");
    if (!first || !twoColumns(first)) return;
    // Read every height first, then write, so the page is laid out once.
    const plan = [];
    sections.forEach(function (section) {
      const rows = Array.prototype.map.call(section.querySelectorAll(".passage-row"), function (row) {
        const block = row.querySelector(":scope > .passage-block");
        const notes = row.querySelector(":scope > .passage-notes");
        const style = getComputedStyle(block);
        return {
          notes: notes,
          blockHeight: block.offsetHeight + parseFloat(style.marginTop) + parseFloat(style.marginBottom),
          notesHeight: notes ? notes.offsetHeight : 0,
        };
      });
      plan.push({ section: section, rows: rows });
    });
    plan.forEach(function (part) {
      let carry = 0; // how far the notes above reach into this row
      part.rows.forEach(function (row) {
        if (!row.notes) {
          carry = Math.max(0, carry - row.blockHeight);
          return;
        }
        const overflow = Math.max(0, carry + row.notesHeight + NOTES_GAP - row.blockHeight);
        row.notes.style.marginTop = carry + "px";
        row.notes.style.marginBottom = -overflow + "px";
        carry = overflow;
      });
      if (carry > 0) part.section.style.paddingBottom = carry + "px";
    });
  }

  function queueLayout() {
    if (layoutQueued) return;
    layoutQueued = true;
    window.requestAnimationFrame(layoutMarginNotes);
  }

  // --- Marking notes active --------------------------------------------------------------------

  function setActive(noteIds) {
    reader.querySelectorAll(".is-active").forEach(function (element) {
      if (element.matches("mark.hl, .note-card")) element.classList.remove("is-active");
    });
    noteIds.forEach(function (id) {
      const card = document.getElementById("note-" + id);
      if (card && card.classList.contains("note-card")) card.classList.add("is-active");
      reader.querySelectorAll("mark.hl").forEach(function (mark) {
        if ((mark.dataset.noteIds || "").split(" ").indexOf(String(id)) !== -1) mark.classList.add("is-active");
      });
    });
  }

  // --- A card and its words, connected ---------------------------------------------------------
  // Pointing at or focusing a note card frames the words it is about, and pointing at or focusing
  // marked words frames their cards (`.is-linked`, a dark frame and bar, not a change of hue alone).
  // What the pointer is on and what has focus are kept apart, so one never clears the other.

  let linkedByPointer = [];
  let linkedByFocus = [];

  function linkedNotes(element) {
    if (!element || !element.closest) return [];
    let card = element.closest(".note-card[data-note-id]");
    if (card) {
      // A reply inside a card belongs to its thread: the top card is the one beside the words.
      while (card.parentElement && card.parentElement.closest(".note-card[data-note-id]")) {
        card = card.parentElement.closest(".note-card[data-note-id]");
      }
      return [card.dataset.noteId];
    }
    const mark = element.closest("mark.hl[data-note-ids]");
    return mark ? mark.dataset.noteIds.split(" ") : [];
  }

  function showLinked() {
    const ids = linkedByPointer.concat(linkedByFocus);
    reader.querySelectorAll(".is-linked").forEach(function (element) { element.classList.remove("is-linked"); });
    if (!ids.length) return;
    ids.forEach(function (id) {
      const card = document.getElementById("note-" + id);
      if (card && card.classList.contains("note-card")) card.classList.add("is-linked");
    });
    reader.querySelectorAll("mark.hl[data-note-ids]").forEach(function (mark) {
      if (mark.dataset.noteIds.split(" ").some(function (id) { return ids.indexOf(id) !== -1; })) {
        mark.classList.add("is-linked");
      }
    });
  }

  reader.addEventListener("mouseover", function (event) {
    const ids = linkedNotes(event.target);
    if (ids.join(" ") === linkedByPointer.join(" ")) return;
    linkedByPointer = ids;
    showLinked();
  });
  reader.addEventListener("mouseleave", function () {
    linkedByPointer = [];
    showLinked();
  });
  reader.addEventListener("focusin", function (event) {
    linkedByFocus = linkedNotes(event.target);
    showLinked();
  });
  reader.addEventListener("focusout", function (event) {
    if (event.relatedTarget && reader.contains(event.relatedTarget)) return;  // focusin sets the next one
    linkedByFocus = [];
    showLinked();
  });

  // --- The note form ---------------------------------------------------------------------------

  function clearErrors() {
    form.querySelectorAll("[data-error-for]").forEach(function (element) {
      element.hidden = true;
      element.textContent = "";
    });
    form.querySelectorAll(".has-error").forEach(function (element) { element.classList.remove("has-error"); });
    form.querySelectorAll("[aria-invalid]").forEach(function (element) { element.removeAttribute("aria-invalid"); });
  }

  // Show the API's {"detail", "errors": {field: [messages]}} beside the fields they name; what
  // names no visible field (the selector, the passage) goes in the box at the top. The typed
  // text stays where it is.
  function showErrors(data) {
    const errors = (data && data.errors) || { non_field_errors: [(data && data.detail) || "Something went wrong."] };
    const general = form.querySelector('[data-error-for="non_field_errors"]');
    let firstControl = null;
    Object.keys(errors).forEach(function (key) {
      const name = key.split(/[.[]/)[0];
      const text = [].concat(errors[key]).join(" ");
      const field = form.querySelector('[data-field="' + name + '"]');
      const slot = field && !field.hidden ? field.querySelector('[data-error-for="' + name + '"]') : null;
      if (!slot) {
        const prefix = name === "selector" ? "The selected words could not be saved: " : "";
        general.textContent = (general.textContent ? general.textContent + " " : "") + prefix + text;
        general.hidden = false;
        return;
      }
      slot.textContent = text;
      slot.hidden = false;
      field.classList.add("has-error");
      const control = field.querySelector("textarea, select, input:not([type=radio])") || field.querySelector("input");
      if (control) {
        control.setAttribute("aria-invalid", "true");
        if (!firstControl) firstControl = control;
      }
    });
    (firstControl || body).focus();
  }

  function showFields(mode, isReply) {
    const hideAudience = mode === "reply" || isReply;
    form.querySelectorAll('[data-field="visibility"], [data-field="question"], [data-field="tags"]').forEach(
      function (field) { field.hidden = hideAudience; }
    );
  }

  function setPendingHighlight(range) {
    if (!canHighlight) return;
    CSS.highlights.delete("note-pending");
    if (range) CSS.highlights.set("note-pending", new window.Highlight(range));
  }

  // Where the form goes. In the DOM it follows the passage it is about (see moveFormBeside), so
  // Tab goes from the form to the next passage, not to the footer. On a wide page it sits in the
  // text column under that passage, so it never covers the passage's notes or the thread being
  // replied to; on a phone it is docked to the bottom of the screen (see keepWordsAboveSheet).
  function place() {
    form.classList.toggle("is-docked", dockedLayout.matches);
    form.classList.toggle("is-inline", !dockedLayout.matches);
  }

  function openForm(options) {
    const keepText = current && current.mode === "new" && options.mode === "new" && body.value.trim() !== "";
    if (current && current.row) current.row.classList.remove("is-writing");
    current = options;
    clearErrors();
    if (!keepText) form.reset();
    showFields(options.mode, options.isReply);
    if (options.mode === "new") {
      title.textContent = "New note on passage " + options.row.dataset.position;
      submitButton.textContent = "Save note";
    } else if (options.mode === "reply") {
      title.textContent = "Reply to " + options.replyTo;
      submitButton.textContent = "Send reply";
    } else {
      title.textContent = options.isReply ? "Edit your reply" : "Edit your note";
      submitButton.textContent = "Save changes";
      body.value = options.source.dataset.body || "";
      if (!options.isReply) {
        const choice = form.querySelector('input[name="visibility"][value="' + options.source.dataset.visibility + '"]');
        if (choice) choice.checked = true;
        const question = form.elements.namedItem("question");
        if (question) question.value = options.source.dataset.question || "";
        form.elements.namedItem("tags").value = options.source.dataset.tags || "";
      }
    }
    const quote = options.selector ? options.selector.exact : "";
    quotePreview.textContent = quote;
    quotePreview.hidden = !quote;
    if (options.mode === "new" && !quote) {
      quotePreview.textContent = "The whole passage";
      quotePreview.hidden = false;
      quotePreview.classList.add("whole");
    } else {
      quotePreview.classList.remove("whole");
    }
    if (options.row) options.row.classList.add("is-writing");
    setPendingHighlight(options.range || null);
    hideToolbar();
    moveFormBeside(options.source || options.row);
    form.hidden = false;
    place();
    // On a touch screen, focusing the textarea would raise the keyboard over the words just chosen.
    if (!options.viaTouch) body.focus({ preventScroll: true });
    if (dockedLayout.matches) {
      keepWordsAboveSheet(options.range, options.row);
    } else {
      const rect = form.getBoundingClientRect();
      if (rect.bottom > window.innerHeight || rect.top < 0) form.scrollIntoView({ block: "nearest", behavior: "smooth" });
    }
    queueLayout();
  }

  function closeForm(restoreFocus) {
    if (!current) return;
    const opener = current.opener;
    if (current.row) current.row.classList.remove("is-writing");
    form.hidden = true;
    form.classList.remove("is-docked");
    document.body.style.paddingBottom = "";
    setPendingHighlight(null);
    current = null;
    queueLayout();
    if (restoreFocus && opener && document.body.contains(opener)) opener.focus();
  }

  // The server remembers the audience chosen last in this group; the open page does too, so the next
  // note's form (reset to its defaults) starts there.
  function rememberAudience() {
    const chosen = form.querySelector('input[name="visibility"]:checked');
    form.querySelectorAll('input[name="visibility"]').forEach(function (radio) { radio.defaultChecked = radio === chosen; });
  }

  function tagsFromInput() {
    const input = form.elements.namedItem("tags");
    return input.value.split(",").map(function (tag) { return tag.trim(); }).filter(Boolean);
  }

  function payload() {
    const visibility = form.querySelector('input[name="visibility"]:checked');
    const question = form.elements.namedItem("question");
    const questionId = question && question.value ? Number(question.value) : null;
    if (current.mode === "new") {
      return {
        passage: Number(current.row.dataset.passageId),
        body: body.value,
        visibility: visibility ? visibility.value : "private",
        selector: current.selector,
        question: questionId,
        tags: tagsFromInput(),
      };
    }
    if (current.mode === "reply") {
      return { passage: Number(current.passageId), parent: Number(current.parentId), body: body.value };
    }
    if (current.isReply) return { body: body.value };
    return {
      body: body.value,
      visibility: visibility ? visibility.value : "private",
      question: questionId,
      tags: tagsFromInput(),
    };
  }

  function api(method, url, data) {
    return fetch(url, {
      method: method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": window.studycircle.csrfToken() },
      body: data === undefined ? undefined : JSON.stringify(data),
    });
  }

  async function problemOf(response) {
    try {
      return await response.json();
    } catch (error) {
      if (response.status === 403) return { detail: "You can change only your own notes. Reload the page and try again." };
      return { detail: "The server could not save this (" + response.status + "). Try again in a moment." };
    }
  }

  // Swap in fresh server-rendered fragments: the passage (its highlights and notes) and, when it
  // may have changed, the orphans section.
  async function refreshRow(passageId) {
    const row = rowById(passageId);
    if (row) await window.htmx.ajax("GET", row.dataset.fragmentUrl, { target: row, swap: "outerHTML" });
    layoutMarginNotes();
  }

  async function refreshOrphans() {
    const section = document.getElementById("orphans");
    if (section) await window.htmx.ajax("GET", section.dataset.fragmentUrl, { target: section, swap: "outerHTML" });
    layoutMarginNotes();
  }

  function focusNote(noteId, message) {
    const card = document.getElementById("note-" + noteId);
    if (!card) {
      announce(message + " It is not shown under the current filter.");
      return false;
    }
    const root = card.closest(".note-card") || card;
    setActive([root.dataset.noteId]);
    card.focus({ preventScroll: true });
    card.scrollIntoView({ block: "nearest", behavior: "smooth" });
    announce(message);
    return true;
  }

  // While a note is being saved, the button says so (and cannot be pressed twice).
  function showSaving(saving, label) {
    submitButton.disabled = saving;
    form.setAttribute("aria-busy", saving ? "true" : "false");
    if (saving) submitButton.textContent = "Saving…";
    else if (label) submitButton.textContent = label;
  }

  async function submit(event) {
    event.preventDefault();
    if (!current) return;
    clearErrors();
    const mode = current.mode;
    const passageId = current.passageId || (current.row && current.row.dataset.passageId);
    const inOrphans = current.source && current.source.closest("#orphans");
    const url = mode === "edit" ? notesApi + current.noteId + "/" : notesApi;
    const label = submitButton.textContent;
    showSaving(true);
    let response;
    try {
      response = await api(mode === "edit" ? "PATCH" : "POST", url, payload());
    } catch (error) {
      showSaving(false, label);
      showErrors({ detail: "Could not reach the server. Check your connection; your note is still here." });
      return;
    }
    showSaving(false, label);
    if (!response.ok) {
      showErrors(await problemOf(response));
      return;
    }
    const note = await response.json();
    if (mode === "new") rememberAudience();
    const opener = current.opener;
    closeForm(false);
    if (inOrphans) await refreshOrphans();
    else await refreshRow(passageId);
    const message = mode === "edit" ? "Note saved." : mode === "reply" ? "Reply posted." : "Note saved.";
    if (!focusNote(note.id, message) && opener && document.body.contains(opener)) opener.focus();
  }

  // --- Where the form sits, and the phone's bottom sheet --------------------------------------

  // Put the form right after the passage row (or the orphans section) it is about, as a sibling:
  // a row is swapped for a fresh fragment after a write, and the form must not go with it.
  function moveFormBeside(element) {
    const orphans = element && element.closest ? element.closest("#orphans") : null;
    const anchor = orphans || (element && element.closest ? element.closest(".passage-row") : null);
    if (anchor && anchor.nextElementSibling !== form) anchor.after(form);
  }

  // On a phone the form is a sheet over the bottom of the screen: scroll so the chosen words (or
  // the passage) stay visible above it, and let the page scroll far enough to allow that.
  function keepWordsAboveSheet(range, row) {
    const sheet = form.getBoundingClientRect().height;
    document.body.style.paddingBottom = Math.ceil(sheet) + "px";
    const block = row ? row.querySelector(".passage-block") : null;
    const target = range && !range.collapsed ? range : block;
    if (!target) return;
    const rect = target.getBoundingClientRect();
    const room = window.innerHeight - sheet;
    const margin = 12;
    let shift = 0;
    if (rect.bottom > room - margin) shift = rect.bottom - (room - margin);
    if (rect.top - shift < margin) shift = rect.top - margin; // a long choice: show its start
    if (shift) window.scrollBy(0, shift);
  }

  // --- The selection toolbar ---------------------------------------------------------------------
  // Selecting words shows a small toolbar (Annotate, Copy link to these words), as Hypothesis
  // does; the form opens only from it, so selecting words to copy them steals nothing.

  const toolbar = document.createElement("div");
  toolbar.id = "selection-toolbar";
  toolbar.className = "selection-toolbar";
  toolbar.setAttribute("role", "toolbar");
  toolbar.setAttribute("aria-label", "Selected words");
  toolbar.hidden = true;
  toolbar.innerHTML =
    '<button type="button" class="primary" data-tool="annotate" aria-haspopup="dialog" aria-controls="note-form">Annotate</button>' +
    '<button type="button" data-tool="copy-link">Copy link</button>';
  document.body.appendChild(toolbar);
  let toolbarChoice = null; // {found, viaTouch, opener}

  function showToolbar(found, options) {
    const row = rowOf(found.passageBody);
    toolbarChoice = { found: found, viaTouch: options.viaTouch, opener: options.opener || null };
    row.after(toolbar);
    toolbar.hidden = false;
    const rect = found.range.getBoundingClientRect();
    const width = toolbar.offsetWidth;
    const pageWidth = document.documentElement.clientWidth;
    let left = rect.left + rect.width / 2 - width / 2;
    left = Math.max(8, Math.min(left, pageWidth - width - 8));
    // Above the words; below them when there is no room above, or on touch screens, where the
    // browser's own menu sits above the selection.
    let top = rect.top - toolbar.offsetHeight - 8;
    if (top < 8 || options.viaTouch) top = rect.bottom + 8;
    toolbar.style.left = left + window.scrollX + "px";
    toolbar.style.top = top + window.scrollY + "px";
    if (options.focus) toolbar.querySelector("button").focus();
  }

  function hideToolbar(restoreFocus) {
    if (toolbar.hidden) return;
    const opener = toolbarChoice && toolbarChoice.opener;
    toolbar.hidden = true;
    toolbarChoice = null;
    if (restoreFocus) {
      leaveWordMode(false);
      if (opener && document.body.contains(opener)) opener.focus();
    }
  }

  // A link to the chosen words: the passage's address with a text fragment, which browsers
  // scroll to and mark (#p-12:~:text=first%20words,last%20words).
  function linkToWords(found) {
    const row = rowOf(found.passageBody);
    const encode = function (part) {
      return encodeURIComponent(part).replace(/-/g, "%2D").replace(/,/g, "%2C").replace(/&/g, "%26");
    };
    const words = found.selector.exact.replace(/\s+/g, " ").trim().split(" ");
    const directive = words.length <= 8
      ? encode(words.join(" "))
      : encode(words.slice(0, 4).join(" ")) + "," + encode(words.slice(-4).join(" "));
    return window.location.origin + window.location.pathname + "#" + row.id + ":~:text=" + directive;
  }

  async function copyLink(found) {
    const link = linkToWords(found);
    try {
      await navigator.clipboard.writeText(link);
      announce("Link to these words copied.");
    } catch (error) {
      window.prompt("Copy this link to the words:", link);
    }
  }

  toolbar.addEventListener("mousedown", function (event) {
    if (!event.target.closest("select")) event.preventDefault(); // keep the selection (a select must still open)
  });
  toolbar.addEventListener("click", function (event) {
    const button = event.target.closest("[data-tool]");
    if (!button || !toolbarChoice) return;
    const choice = toolbarChoice;
    if (button.dataset.tool === "annotate") {
      leaveWordMode(false);
      openForSelection(choice.found, choice.viaTouch, choice.opener);
    } else if (button.dataset.tool === "copy-link") {
      copyLink(choice.found);
    }
  });
  document.addEventListener("mousedown", function (event) {
    if (!toolbar.hidden && !toolbar.contains(event.target)) hideToolbar(false);
  });
  document.addEventListener("selectionchange", function () {
    const selection = window.getSelection();
    if (!toolbar.hidden && !wordMode && selection && selection.isCollapsed && !toolbar.contains(document.activeElement)) {
      hideToolbar(false);
    }
  });

  // --- Choosing words with the keyboard ------------------------------------------------------------
  // "Choose words" (under each passage; shown when it has focus) puts the keyboard in the passage:
  // ←/→ pick the next or previous word, Shift+←/→ extend or shrink the choice by a word, ↑/↓ pick
  // a sentence, Shift+↓/↑ extend or shrink by a sentence, Enter opens the toolbar, Esc leaves.

  let wordMode = null; // {row, passageBody, text, words, sentences, start, end, opener}

  function segmentsOf(text, granularity) {
    if (window.Intl && Intl.Segmenter) {
      const out = [];
      for (const part of new Intl.Segmenter(document.documentElement.lang || "en", { granularity: granularity }).segment(text)) {
        if (granularity === "word" && !part.isWordLike) continue;
        let end = part.index + part.segment.length;
        while (end > part.index && /\s/.test(text[end - 1])) end--;
        if (end > part.index) out.push({ start: part.index, end: end });
      }
      return out;
    }
    const pattern = granularity === "word" ? /[\p{L}\p{N}][\p{L}\p{N}'’-]*/gu : /[^.!?]+[.!?]*["”’)]*/g;
    const out = [];
    let match;
    while ((match = pattern.exec(text))) {
      const start = match.index + (match[0].length - match[0].trimStart().length);
      const end = match.index + match[0].trimEnd().length;
      if (end > start) out.push({ start: start, end: end });
    }
    return out;
  }

  // The DOM boundary point at UTF-16 offset `offset` of `element`'s text.
  function pointAt(element, offset) {
    const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
    let seen = 0;
    let node = walker.nextNode();
    let last = null;
    while (node) {
      if (offset <= seen + node.data.length) return [node, offset - seen];
      seen += node.data.length;
      last = node;
      node = walker.nextNode();
    }
    return last ? [last, last.data.length] : [element, 0];
  }

  function showWordChoice() {
    const mode = wordMode;
    const start = pointAt(mode.passageBody, mode.start);
    const end = pointAt(mode.passageBody, mode.end);
    const selection = window.getSelection();
    selection.setBaseAndExtent(start[0], start[1], end[0], end[1]);
    const range = selection.getRangeAt(0);
    const rect = range.getBoundingClientRect();
    if (rect.top < 0 || rect.bottom > window.innerHeight) {
      window.scrollBy(0, rect.top - window.innerHeight / 3);
    }
    announce("Chosen: " + mode.text.slice(mode.start, mode.end));
  }

  function enterWordMode(row, opener) {
    if (!row) return;
    const passageBody = row.querySelector("[data-passage-body]");
    const text = passageBody.textContent;
    const words = segmentsOf(text, "word");
    if (!words.length) return;
    hideToolbar(false);
    leaveWordMode(false);
    wordMode = {
      row: row,
      passageBody: passageBody,
      text: text,
      words: words,
      sentences: segmentsOf(text, "sentence"),
      start: words[0].start,
      end: words[0].end,
      opener: opener,
    };
    passageBody.tabIndex = -1;
    passageBody.classList.add("is-choosing");
    passageBody.setAttribute("aria-describedby", "word-mode-help");
    passageBody.focus({ preventScroll: true });
    wordModeHelp.hidden = false;
    passageBody.after(wordModeHelp);
    showWordChoice();
  }

  function leaveWordMode(restoreFocus) {
    if (!wordMode) return;
    const mode = wordMode;
    wordMode = null;
    mode.passageBody.classList.remove("is-choosing");
    mode.passageBody.removeAttribute("tabindex");
    mode.passageBody.removeAttribute("aria-describedby");
    wordModeHelp.hidden = true;
    if (restoreFocus) {
      window.getSelection().removeAllRanges();
      if (mode.opener && document.body.contains(mode.opener)) mode.opener.focus();
    }
  }

  const wordModeHelp = document.createElement("p");
  wordModeHelp.id = "word-mode-help";
  wordModeHelp.className = "word-mode-help";
  wordModeHelp.hidden = true;
  wordModeHelp.textContent =
    "← → next word · Shift+← → fewer or more words · ↑ ↓ sentence · Shift+↑ ↓ by sentence · Enter: annotate, highlight or copy a link · Esc: done";

  // The parts (words or sentences) that start at or after `from`, and that end at or before `to`.
  function after(parts, from) { return parts.find(function (part) { return part.start >= from; }); }
  function before(parts, to) {
    for (let i = parts.length - 1; i >= 0; i--) if (parts[i].end <= to) return parts[i];
    return undefined;
  }
  function containing(parts, offset) {
    return parts.find(function (part) { return part.start <= offset && offset < part.end; });
  }

  function moveWordChoice(key, extend) {
    const mode = wordMode;
    const words = mode.words;
    const sentences = mode.sentences.length ? mode.sentences : [{ start: 0, end: mode.text.length }];
    let start = mode.start;
    let end = mode.end;
    if (key === "ArrowRight") {
      const next = after(words, end);
      if (!next) return false;
      if (extend) end = next.end;
      else { start = next.start; end = next.end; }
    } else if (key === "ArrowLeft") {
      if (extend) {
        const previous = before(words, end - 1);
        if (previous && previous.end > start) end = previous.end;
        else { const earlier = before(words, start); if (!earlier) return false; start = earlier.start; }
      } else {
        const previous = before(words, start);
        if (!previous) return false;
        start = previous.start;
        end = previous.end;
      }
    } else if (key === "ArrowDown") {
      const here = containing(sentences, end - 1);
      const next = here && here.end > end ? here : after(sentences, end);
      if (!next) return false;
      if (extend) end = next.end;
      else { start = next.start; end = next.end; }
    } else if (key === "ArrowUp") {
      if (extend) {
        const previous = before(sentences, end - 1);
        if (!previous || previous.end <= start) return false;
        end = previous.end;
      } else {
        const here = containing(sentences, start);
        const previous = here && (here.start < start || here.end !== end) ? here : before(sentences, start);
        if (!previous) return false;
        start = previous.start;
        end = previous.end;
      }
    } else if (key === "Home") {
      start = words[0].start;
      end = words[0].end;
    } else if (key === "End") {
      start = words[words.length - 1].start;
      end = words[words.length - 1].end;
    } else {
      return false;
    }
    mode.start = start;
    mode.end = end;
    showWordChoice();
    return true;
  }

  reader.addEventListener("keydown", function (event) {
    if (!wordMode || event.target !== wordMode.passageBody) return;
    if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      leaveWordMode(true);
      return;
    }
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      const found = selectorFromSelection(wordMode.row);
      if (found && !found.crossesPassages) showToolbar(found, { focus: true, opener: wordMode.opener });
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (moveWordChoice(event.key, event.shiftKey)) event.preventDefault();
  });
  reader.addEventListener("focusout", function (event) {
    if (wordMode && event.target === wordMode.passageBody && !toolbar.contains(event.relatedTarget)) {
      leaveWordMode(false);
    }
  });

  // --- Highlights people reach with the keyboard ----------------------------------------------------
  // Each highlight is a button: Tab reaches it, Enter or Space shows its notes (as a click does).

  function decorateHighlights(root) {
    (root || reader).querySelectorAll("mark.hl[data-note-ids]").forEach(function (mark) {
      if (mark.hasAttribute("tabindex")) return;
      const count = mark.dataset.noteIds.split(" ").length;
      mark.tabIndex = 0;
      mark.setAttribute("role", "button");
      mark.setAttribute("aria-label", "“" + mark.textContent + "”: show " + (count === 1 ? "its note" : "its " + count + " notes"));
    });
  }

  function showNotesOf(mark) {
    const ids = mark.dataset.noteIds.split(" ");
    setActive(ids);
    const card = document.getElementById("note-" + ids[0]);
    if (card) {
      card.focus({ preventScroll: true });
      card.scrollIntoView({ block: "nearest", behavior: "smooth" });
    }
  }

  reader.addEventListener("keydown", function (event) {
    const mark = event.target.closest && event.target.closest("mark.hl[data-note-ids]");
    if (!mark || (event.key !== "Enter" && event.key !== " ")) return;
    event.preventDefault();
    showNotesOf(mark);
  });

  // --- Finding one's way: next/previous note, go to passage, passages on another part ----------------

  // The note cards beside the passages, in reading order.
  function noteCards() {
    return Array.prototype.slice.call(reader.querySelectorAll(".passage-notes > .note-card"));
  }

  let lastStepped = null;

  // The next (step 1) or previous (step -1) note after the one with focus, or after what is on screen.
  function stepNote(step) {
    const cards = noteCards();
    if (!cards.length) {
      announce("There are no notes on this part of the reading.");
      return;
    }
    // From the note with focus; after pressing the button again, from the note it went to last.
    const active = document.activeElement;
    const fromButton = active && active.closest && active.closest("[data-step-note]");
    const focused = fromButton ? lastStepped : active && active.closest && active.closest(".note-card");
    let index = focused ? cards.indexOf(focused.closest(".passage-notes > .note-card")) : -1;
    if (index === -1) {
      // From the screen: the first card below its top (or the last above it, going back).
      const tops = cards.map(function (card) { return card.getBoundingClientRect().top; });
      if (step > 0) {
        index = tops.findIndex(function (top) { return top > 1; }) - 1;
        if (index < -1) index = cards.length - 1;
      } else {
        index = tops.findIndex(function (top) { return top >= -1; });
        if (index === -1) index = cards.length;
      }
    }
    const target = cards[index + step];
    if (!target) {
      announce(step > 0 ? "No more notes on this part of the reading." : "No earlier notes on this part of the reading.");
      return;
    }
    lastStepped = target;
    setActive([target.dataset.noteId]);
    target.focus({ preventScroll: true });
    target.scrollIntoView({ block: "center", behavior: "smooth" });
    const place = target.querySelector(".passage-ref");
    announce("Note " + (cards.indexOf(target) + 1) + " of " + cards.length + (place ? ", passage " + place.textContent.replace("§", "") : ""));
  }

  document.addEventListener("click", function (event) {
    const button = event.target.closest && event.target.closest("[data-step-note]");
    if (button) stepNote(Number(button.dataset.stepNote));
  });

  // The passage row named by an id ("p-12") or a number ("12"), if it is on this part.
  function rowNamed(name) {
    const id = /^\d+$/.test(name) ? "p-" + name : name;
    const row = document.getElementById(id);
    if (row && row.classList.contains("passage-row")) return row;
    return /^\d+$/.test(name) ? reader.querySelector('.passage-row[data-position="' + name + '"]') : null;
  }

  function goToRow(row) {
    window.history.replaceState(null, "", "#" + row.id);
    row.scrollIntoView({ block: "start" });
    const number = row.querySelector(".passage-num");
    if (number) number.focus({ preventScroll: true });
  }

  const jumpForm = document.querySelector("[data-jump]");
  if (jumpForm) {
    jumpForm.addEventListener("submit", function (event) {
      const input = jumpForm.elements.namedItem("at");
      const value = input.value.trim().replace(/^§/, "");
      const error = document.getElementById("jump-to-error");
      error.textContent = "";
      if (!/^\d+$/.test(value)) {
        event.preventDefault();
        error.textContent = "Give a passage number, such as 12.";
        input.focus();
        return;
      }
      input.value = value;
      const row = rowNamed(value);
      if (row) {  // on this part: no reload
        event.preventDefault();
        goToRow(row);
      }
      // Otherwise the form asks the server for the part that holds it.
    });
  }

  // A link to a passage on another part of a long reading (#p-1200): fetch that part.
  function followPassageHash() {
    const name = decodeURIComponent(window.location.hash.slice(1));
    if (!/^(t\d+-)?p-\d+$/.test(name) || document.getElementById(name)) return;
    const params = new URLSearchParams(window.location.search);
    if (params.get("at") === name) return; // asked already: it is not in this reading
    params.set("at", name);
    params.delete("page");
    window.location.replace(window.location.pathname + "?" + params.toString() + "#" + name);
  }
  window.addEventListener("hashchange", followPassageHash);
  followPassageHash();
  // Opened by "Go to passage" (?at=22) without a fragment: go to the passage on this part.
  const askedFor = new URLSearchParams(window.location.search).get("at");
  if (askedFor && !window.location.hash) {
    const row = rowNamed(askedFor.replace(/^§/, ""));
    if (row) window.requestAnimationFrame(function () { goToRow(row); });
  }

  // --- Opening the form --------------------------------------------------------------------------

  function openForSelection(found, viaTouch, opener) {
    const row = rowOf(found.passageBody);
    openForm({
      mode: "new",
      row: row,
      selector: found.selector,
      range: found.range,
      opener: opener || row.querySelector("[data-add-note]"),
      viaTouch: viaTouch,
    });
  }

  function checkSelection(viaTouch) {
    const found = selectorFromSelection(null);
    if (!found) return;
    // Do not throw away a reply or an edit being typed because some words were selected.
    if (current && current.mode !== "new" && body.value.trim() !== "") return;
    if (found.crossesPassages) {
      announce("Select words within one passage to write a note on them.");
      return;
    }
    showToolbar(found, { viaTouch: viaTouch, focus: false });
  }

  document.addEventListener("pointerdown", function (event) { lastPointer = event.pointerType || "mouse"; }, true);

  document.addEventListener("mouseup", function (event) {
    if (form.contains(event.target) || toolbar.contains(event.target) || lastPointer === "touch") return;
    if (event.target.closest && event.target.closest("button, input, select, textarea")) return;
    window.setTimeout(function () { checkSelection(false); }, 0);
  });

  // Keyboard selection with caret browsing (Shift+arrows) ends with a keyup inside the text.
  document.addEventListener("keyup", function (event) {
    if (!event.shiftKey || form.contains(event.target) || wordMode) return;
    const found = selectorFromSelection(null);
    if (found && !found.crossesPassages) {
      // Wait for the selection to settle: do not open on every arrow press.
      window.clearTimeout(touchTimer);
      touchTimer = window.setTimeout(function () { checkSelection(false); }, 700);
    }
  });

  // On touch screens a selection is made with handles, not a mouseup: wait until it rests.
  document.addEventListener("selectionchange", function () {
    if (lastPointer !== "touch" || wordMode) return;
    window.clearTimeout(touchTimer);
    touchTimer = window.setTimeout(function () { checkSelection(true); }, 700);
  });

  reader.addEventListener("click", async function (event) {
    const target = event.target;

    const addButton = target.closest("[data-add-note]");
    if (addButton) {
      const row = rowOf(addButton);
      const found = selectorFromSelection(row);
      openForm({
        mode: "new",
        row: row,
        selector: found && !found.crossesPassages ? found.selector : null,
        range: found && !found.crossesPassages ? found.range : null,
        opener: addButton,
      });
      return;
    }

    const replyButton = target.closest("[data-reply]");
    if (replyButton) {
      // A reply answers the note or reply whose button was pressed; threads nest as deep as they go.
      const item = replyButton.closest(".reply, .note-card");
      const card = replyButton.closest(".note-card");
      const isReply = item.classList.contains("reply");
      const author = item.querySelector(":scope > .byline .author");
      const mine = isReply ? "your reply" : "your note";
      openForm({
        mode: "reply",
        row: rowOf(card),
        passageId: card.dataset.passageId,
        parentId: item.dataset.noteId,
        replyTo: author ? (author.textContent.trim() === "You" ? mine : author.textContent.trim()) : "this note",
        opener: replyButton,
        source: item,
      });
      return;
    }

    const editButton = target.closest("[data-edit]");
    if (editButton) {
      const item = editButton.closest(".reply, .note-card");
      const card = editButton.closest(".note-card");
      openForm({
        mode: "edit",
        row: rowOf(card),
        passageId: card.dataset.passageId,
        noteId: item.dataset.noteId,
        isReply: item.classList.contains("reply"),
        opener: editButton,
        source: item,
      });
      return;
    }

    const deleteButton = target.closest("[data-delete]");
    if (deleteButton) {
      const item = deleteButton.closest(".reply, .note-card");
      const card = deleteButton.closest(".note-card");
      const what = item.classList.contains("reply") ? "reply" : "note";
      if (!window.confirm("Delete your " + what + "? This cannot be undone.")) return;
      const response = await api("DELETE", notesApi + item.dataset.noteId + "/");
      if (!response.ok) {
        announce((await problemOf(response)).detail);
        return;
      }
      const row = rowOf(card);
      if (card.closest("#orphans")) await refreshOrphans();
      else await refreshRow(card.dataset.passageId);
      const freshRow = row ? rowById(row.dataset.passageId) : null;
      const next = freshRow ? freshRow.querySelector("[data-add-note]") : null;
      if (next) next.focus();
      announce("Your " + what + " was deleted.");
      return;
    }

    const reattach = target.closest("[data-reattach]");
    if (reattach) {
      reattach.disabled = true;
      const data = reattach.dataset;
      const start = Number(data.start);
      const end = Number(data.end);
      const response = await api("PATCH", notesApi + data.noteId + "/", {
        passage: Number(data.passage),
        selector: { start: start, end: end, exact: data.exact },
      });
      if (!response.ok) {
        reattach.disabled = false;
        announce((await problemOf(response)).detail);
        return;
      }
      await refreshOrphans();
      await refreshRow(data.passage);
      focusNote(data.noteId, "Note re-attached.");
      return;
    }

    const chooseButton = target.closest("[data-choose-words]");
    if (chooseButton) {
      enterWordMode(rowOf(chooseButton), chooseButton);
      return;
    }

    const helpfulButton = target.closest("[data-helpful]");
    if (helpfulButton) {
      toggleHelpful(helpfulButton);
      return;
    }

    const ownHighlight = target.closest("mark.hl-only[data-own-highlights]");
    if (ownHighlight) {
      const selection = window.getSelection();
      if (!selection || selection.isCollapsed) removeHighlights(ownHighlight);
      return;
    }

    // A highlight: show its note(s), unless the click ended a selection.
    const mark = target.closest("mark.hl[data-note-ids]");
    if (mark) {
      const selection = window.getSelection();
      if (selection && !selection.isCollapsed) return;
      showNotesOf(mark);
      return;
    }

    const card = target.closest(".note-card");
    if (card && !target.closest("a, button")) setActive([card.dataset.noteId]);
  });

  // A note card that gets focus (by Tab to its buttons, or from a highlight) lights up its words.
  reader.addEventListener("focusin", function (event) {
    const card = event.target.closest(".note-card");
    if (card) setActive([card.dataset.noteId]);
  });

  // --- Highlights: words marked, with no note ------------------------------------------------------
  // Kept apart so a selection toolbar can call it: saves `selector` on the passage as a highlight for
  // `visibility` and refreshes the passage. Resolves to null, or the API's error.
  const HIGHLIGHT_SAVED = {
    private: "Highlighted. Only you see this highlight.",
    group: "Highlighted for the group.",
    facilitators: "Highlighted for the facilitators and organizers.",
  };

  async function saveHighlight(passageId, selector, visibility) {
    const response = await api("POST", notesApi, {
      passage: Number(passageId), selector: selector, highlight: true, visibility: visibility,
    });
    if (!response.ok) return problemOf(response);
    await refreshRow(passageId);
    announce(HIGHLIGHT_SAVED[visibility]);
    return null;
  }

  // Who a new highlight is for: private unless the person chose otherwise, and then what they chose
  // last in this group (kept in this browser, as highlights change no remembered note audience).
  // Kept per person: on a shared browser the next one to sign in starts at "Only me" again.
  const highlightAudienceKey =
    "studycircle.highlight-audience." + (reader.dataset.groupId || "") + "." + (reader.dataset.userId || "");
  try {
    // The key this used to be kept under (the group's only), which anyone signing in here would inherit.
    window.localStorage.removeItem("studycircle.highlight-audience." + (reader.dataset.groupId || ""));
  } catch (error) {
    // storage switched off: nothing kept
  }

  function rememberedHighlightAudience() {
    try {
      const value = window.localStorage.getItem(highlightAudienceKey);
      return HIGHLIGHT_SAVED[value] ? value : "private";
    } catch (error) {
      return "private"; // storage switched off
    }
  }

  // "Highlight" in the selection toolbar, after "Annotate", with who sees it beside it.
  function addHighlightTool() {
    const button = document.createElement("button");
    button.type = "button";
    button.dataset.tool = "highlight";
    button.textContent = "Highlight";
    const audience = document.createElement("select");
    audience.dataset.highlightAudience = "";
    audience.setAttribute("aria-label", "Who sees the highlight");
    [["private", "Only me"], ["group", "The group"], ["facilitators", "Facilitators"]].forEach(function (pair) {
      const option = document.createElement("option");
      option.value = pair[0];
      option.textContent = pair[1];
      audience.append(option);
    });
    audience.value = rememberedHighlightAudience();
    audience.addEventListener("change", function () {
      try {
        window.localStorage.setItem(highlightAudienceKey, audience.value);
      } catch (error) {
        // storage switched off: the choice holds for this page
      }
    });
    toolbar.querySelector('[data-tool="annotate"]').after(button, audience);
    toolbar.addEventListener("click", async function (event) {
      if (!event.target.closest('[data-tool="highlight"]') || !toolbarChoice) return;
      const found = toolbarChoice.found;
      const row = rowOf(found.passageBody);
      leaveWordMode(false);
      hideToolbar(false);
      const selection = window.getSelection();
      if (selection) selection.removeAllRanges();
      const problem = await saveHighlight(row.dataset.passageId, found.selector, audience.value);
      if (problem) announce(problem.detail || "The highlight could not be saved.");
    });
  }

  // Words only one's own highlights cover: a click (or Enter) offers to remove them.
  async function removeHighlights(mark) {
    const ids = (mark.dataset.ownHighlights || "").split(" ").filter(Boolean);
    if (!ids.length || !window.confirm("Remove your highlight of these words?")) return;
    for (const id of ids) {
      const response = await api("DELETE", notesApi + id + "/");
      if (!response.ok) {
        announce((await problemOf(response)).detail);
        return;
      }
    }
    await refreshRow(rowOf(mark).dataset.passageId);
    announce("Highlight removed.");
  }

  // --- Helpful marks --------------------------------------------------------------------------------

  async function toggleHelpful(button) {
    const card = button.closest("[data-note-id]");
    const marked = button.getAttribute("aria-pressed") === "true";
    button.disabled = true;
    const response = await api(marked ? "DELETE" : "POST", notesApi + card.dataset.noteId + "/helpful/");
    button.disabled = false;
    if (!response.ok) {
      announce((await problemOf(response)).detail);
      return;
    }
    const data = await response.json();
    button.setAttribute("aria-pressed", data.helpful_by_me ? "true" : "false");
    const count = button.querySelector("[data-helpful-count]");
    if (count) count.textContent = data.helpful_count ? String(data.helpful_count) : "";
    announce(data.helpful_by_me ? "Marked as helpful." : "Helpful mark taken back.");
  }

  // --- Live: others' new notes appear without a reload ------------------------------------------------
  // Polls the notes this person may see (GET …/notes/live/, 304 while nothing changed). New
  // highlights are drawn at once; new notes and replies wait behind a "3 new notes · Show" bar, so
  // nothing moves under the reader's eyes.
  const liveBar = document.getElementById("live-bar");
  const live = { seen: null, etag: null, notes: new Map(), rows: new Set(), timer: null };

  function idsOnPage() {
    const ids = new Set();
    reader.querySelectorAll("[data-note-id]").forEach(function (element) { ids.add(element.dataset.noteId); });
    reader.querySelectorAll("mark[data-note-ids], mark[data-highlight-ids]").forEach(function (mark) {
      (mark.dataset.noteIds || "").split(" ").concat((mark.dataset.highlightIds || "").split(" ")).forEach(
        function (id) { if (id) ids.add(id); }
      );
    });
    return ids;
  }

  function showLiveBar() {
    const count = live.notes.size;
    liveBar.hidden = count === 0;
    if (count) {
      liveBar.querySelector("[data-live-count]").textContent = count + " new note" + (count === 1 ? "" : "s");
    }
  }

  function takeLive(data) {
    const all = data.notes.map(function (note) { return String(note.id); });
    if (live.seen === null) {
      // The page was rendered at `liveVersion`: anything newer that it lacks is new (unless a filter hides it).
      const exact = data.version === reader.dataset.liveVersion || reader.dataset.filtered === "true";
      live.seen = exact ? new Set(all) : idsOnPage();
    }
    const onPage = idsOnPage();
    const highlighted = new Set();
    data.notes.forEach(function (note) {
      const id = String(note.id);
      if (live.seen.has(id) || onPage.has(id) || note.mine || note.deleted) {
        live.seen.add(id);
        return;
      }
      live.seen.add(id);
      if (note.highlight) highlighted.add(String(note.passage));
      else {
        live.notes.set(id, String(note.passage));
        live.rows.add(String(note.passage));
      }
    });
    highlighted.forEach(function (passageId) {
      const row = rowById(passageId);
      if (row && row.classList.contains("is-writing")) live.rows.add(passageId);
      else refreshRow(passageId);
    });
    showLiveBar();
  }

  async function pollLive() {
    window.clearTimeout(live.timer);
    if (!document.hidden) {
      const headers = { Accept: "application/json" };
      if (live.etag) headers["If-None-Match"] = live.etag;
      try {
        const response = await fetch(reader.dataset.liveUrl, { credentials: "same-origin", headers: headers });
        if (response.status === 200) {
          live.etag = response.headers.get("ETag");
          takeLive(await response.json());
        }
      } catch (error) {
        // Offline for a moment: the next poll tries again.
      }
    }
    live.timer = window.setTimeout(pollLive, Number(reader.dataset.pollSeconds) * 1000);
  }

  async function showLive() {
    const first = live.notes.keys().next().value;
    const rows = Array.from(live.rows);
    live.notes.clear();
    live.rows.clear();
    showLiveBar();
    for (const passageId of rows) await refreshRow(passageId);
    if (first && !focusNote(first, "New notes shown.")) announce("New notes shown.");
  }

  addHighlightTool();
  reader.addEventListener("keydown", function (event) {
    const mark = event.target.closest && event.target.closest("mark.hl-only[data-own-highlights]");
    if (!mark || (event.key !== "Enter" && event.key !== " ")) return;
    event.preventDefault();
    removeHighlights(mark);
  });

  if (liveBar && reader.dataset.liveUrl && Number(reader.dataset.pollSeconds) > 0) {
    liveBar.addEventListener("click", function (event) {
      if (event.target.closest("[data-live-show]")) showLive();
    });
    document.addEventListener("visibilitychange", function () {
      if (!document.hidden) pollLive();
    });
    pollLive();
  }

  form.addEventListener("submit", submit);
  form.addEventListener("click", function (event) {
    if (event.target.closest("[data-close]")) closeForm(true);
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    if (current) {
      event.preventDefault();
      closeForm(true);
    } else if (!toolbar.hidden) {
      event.preventDefault();
      hideToolbar(true);
    }
  });
  // Ctrl/Cmd+Enter saves from the textarea.
  body.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) form.requestSubmit();
  });
  window.addEventListener("resize", queueLayout);
  window.addEventListener("load", queueLayout);
  document.body.addEventListener("htmx:afterSettle", queueLayout);
  document.body.addEventListener("htmx:afterSettle", function (event) { decorateHighlights(event.target); });
  decorateHighlights(reader);
  if (document.fonts && document.fonts.ready) document.fonts.ready.then(queueLayout);
  layoutMarginNotes();
  // The layout above moves passages up; keep a deep link (#p-12) on its passage.
  const linked = window.location.hash && document.getElementById(decodeURIComponent(window.location.hash.slice(1)));
  if (linked && reader.contains(linked)) linked.scrollIntoView();

  dockedLayout.addEventListener("change", function () {
    if (current) place();
  });
})();
