// Assignment builder: shade the chosen range of passages and say what it covers.
(function () {
  "use strict";
  function update(form) {
    var start = form.querySelector('input[name="start_passage"]:checked');
    var end = form.querySelector('input[name="end_passage"]:checked');
    var from = start ? Number(start.closest("li").dataset.position) : null;
    var to = end ? Number(end.closest("li").dataset.position) : null;
    form.querySelectorAll(".picker li[data-position]").forEach(function (row) {
      var position = Number(row.dataset.position);
      row.classList.toggle("in-range", from !== null && to !== null && position >= from && position <= to);
    });
    var summary = form.querySelector("[data-picker-summary]");
    if (!summary) return;
    if (from !== null && to !== null) {
      summary.textContent = from <= to
        ? "§" + from + "–§" + to + ": " + (to - from + 1) + " passages."
        : "The last passage comes before the first: swap them.";
    } else {
      summary.textContent = "Pick a first and a last passage.";
    }
  }
  document.addEventListener("change", function (event) {
    var form = event.target.closest("[data-picker]");
    if (form) update(form);
  });
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-picker]").forEach(update);
  });
})();
