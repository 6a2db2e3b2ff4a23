// The pack download page: ask for the PDF or EPUB until the worker has made it, then save it.
// The pack API answers 202 with Retry-After while the file is prepared, 503 after a failed
// render (tried again later), and 200 with the file. No inline scripts: the CSP forbids them.
(function () {
  "use strict";

  var root = document.querySelector("[data-pack-download]");
  if (!root) return;
  var url = root.getAttribute("data-url");
  var label = root.getAttribute("data-label");
  var status = root.querySelector("[data-status]");
  var hint = root.querySelector("[data-hint]");
  var again = root.querySelector("[data-again]");
  var GIVE_UP_MS = 5 * 60 * 1000;
  var started = Date.now();

  function say(text, state) {
    status.textContent = text;
    root.setAttribute("data-state", state);
  }

  function fileName(response) {
    var header = response.headers.get("Content-Disposition") || "";
    var match = /filename="([^"]+)"/.exec(header);
    return match ? match[1] : "session-pack." + label.toLowerCase();
  }

  function save(blob, name) {
    var link = again;
    link.href = URL.createObjectURL(blob);
    link.setAttribute("download", name);
    link.hidden = false;
    link.click();
    say("Your " + label + " is ready: " + name + " is downloading.", "ready");
    hint.textContent = "If the download did not start, use “Download again”.";
  }

  function later(seconds, text) {
    if (Date.now() - started > GIVE_UP_MS) {
      say("Your " + label + " is taking longer than it should. Please try again later.", "failed");
      return;
    }
    if (text) say(text, "waiting");
    window.setTimeout(ask, Math.max(1, seconds) * 1000);
  }

  function retryAfter(response, fallback) {
    var seconds = parseInt(response.headers.get("Retry-After") || "", 10);
    return isNaN(seconds) ? fallback : seconds;
  }

  function ask() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "*/*" } })
      .then(function (response) {
        if (response.status === 202) {
          return later(retryAfter(response, 2));
        }
        if (response.status === 503) {
          return response.json().then(function (body) {
            later(retryAfter(response, 30), body.detail);
          });
        }
        if (!response.ok) {
          return response.json().then(
            function (body) { say("Your " + label + " could not be prepared: " + body.detail, "failed"); },
            function () { say("Your " + label + " could not be prepared (" + response.status + ").", "failed"); }
          );
        }
        var name = fileName(response);
        return response.blob().then(function (blob) { save(blob, name); });
      })
      .catch(function () {
        later(5, "The connection dropped; trying again…");
      });
  }

  ask();
})();
