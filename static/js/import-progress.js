// The import progress page: poll the import's JSON status and move the bar; when the import ends,
// reload, and the page opens the text (or shows why it failed). No inline scripts: the CSP forbids them.
(function () {
  "use strict";

  var section = document.getElementById("import");
  if (!section) return;
  var url = section.getAttribute("data-import-status");
  var state = section.getAttribute("data-import-state");
  if (!url || state === "done" || state === "failed") return;
  var bar = document.getElementById("import-progress");
  var label = document.getElementById("import-state");

  function show(status) {
    if (status.state === "done" || status.state === "failed") {
      window.location.reload();
      return true;
    }
    if (bar) bar.value = status.progress;
    if (label) {
      label.textContent = status.state === "queued"
        ? "Waiting for a worker…"
        : "Splitting into passages: " + status.progress + "%";
    }
    return false;
  }

  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (status) {
        if (!status || !show(status)) window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }

  window.setTimeout(poll, 500);
})();
