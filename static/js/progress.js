// Reading progress in the reader: a passage counts as read once it has been on screen long enough to
// read it (its words at the group's pace, capped), or when "Mark read" is pressed. What was read goes to
// POST /api/v1/sessions/{id}/progress/ in one batch every few seconds and when the page is left, never
// per scroll event; the answer updates the progress bar. The last passage reached is "where I left off".
(function () {
  "use strict";
  const bar = document.querySelector("[data-progress]");
  if (!bar) return;
  const url = bar.dataset.progressUrl;
  const pace = Number(bar.dataset.pace) || 300; // words a minute
  const cap = Number(bar.dataset.cap) * 1000 || 45000;
  const every = Number(bar.dataset.batch) * 1000 || 15000;
  const read = new Set((bar.dataset.read || "").split(" ").filter(Boolean));
  const pending = new Set();
  const timers = new Map();
  let last = null;
  let opened = false;

  function show(mine) {
    if (!mine) return;
    const percent = mine.percent === null ? 100 : mine.percent;
    const meter = bar.querySelector("progress");
    meter.value = percent;
    meter.textContent = percent + "%";
    bar.querySelector(".progress-label").textContent = percent + "% read";
    (mine.passages_read || []).forEach(function (id) { markShown(String(id)); });
  }

  function markShown(id) {
    read.add(id);
    const row = document.querySelector('.passage-row[data-passage-id="' + id + '"]');
    if (row) {
      row.classList.add("is-read");
      const button = row.querySelector("[data-mark-read]");
      if (button) {
        button.disabled = true;
        button.textContent = "Read";
        button.setAttribute("aria-label", "Read: passage " + row.dataset.position);
      }
    }
  }

  // One batch at a time: answers that overtook each other would leave the bar showing an older count.
  // What comes in while a batch is on its way goes in the next one, sent as soon as the answer is back.
  let sending = false;
  let again = false;

  function send(keepalive) {
    if (!pending.size && opened && !last) return;
    if (sending && !keepalive) {
      again = true;
      return;
    }
    const body = { passages: Array.from(pending).map(Number) };
    if (last) body.last_passage = Number(last);
    pending.clear();
    last = null;
    opened = true;
    sending = !keepalive;
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      keepalive: !!keepalive,
      headers: { "Content-Type": "application/json", "X-CSRFToken": window.studycircle.csrfToken(), Accept: "application/json" },
      body: JSON.stringify(body),
    }).then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) { if (data) show(data.mine); })
      .catch(function () { body.passages.forEach(function (id) { pending.add(String(id)); }); })
      .finally(function () {
        if (keepalive) return;
        sending = false;
        if (again) {
          again = false;
          send(false);
        }
      });
  }

  function counted(row) {
    const id = row.dataset.passageId;
    timers.delete(id);
    if (read.has(id)) return;
    pending.add(id);
    markShown(id);
  }

  const observer = new IntersectionObserver(function (entries) {
    entries.forEach(function (entry) {
      const row = entry.target;
      const id = row.dataset.passageId;
      if (entry.isIntersecting) {
        last = id;
        if (read.has(id) || timers.has(id)) return;
        const words = Number(row.dataset.words) || 0;
        const wait = Math.min(cap, (words / pace) * 60000);
        timers.set(id, setTimeout(function () { counted(row); }, wait));
      } else if (timers.has(id)) {
        clearTimeout(timers.get(id));
        timers.delete(id);
      }
    });
  }, { threshold: 0.6 });

  document.querySelectorAll(".passage-row[data-passage-id]").forEach(function (row) {
    if (read.has(row.dataset.passageId)) markShown(row.dataset.passageId);
    observer.observe(row);
  });

  document.addEventListener("click", function (event) {
    const button = event.target.closest("[data-mark-read]");
    if (!button) return;
    const row = button.closest(".passage-row");
    if (!row) return;
    last = row.dataset.passageId;
    counted(row);
    send(false);
  });

  send(false); // opening the reading counts as opening it
  setInterval(function () { send(false); }, every);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") send(true);
  });
})();
