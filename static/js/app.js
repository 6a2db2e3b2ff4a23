// Small behaviours shared by every page. No inline scripts: the CSP forbids them.
(function () {
  "use strict";

  // What the pages' own scripts share (loaded after this one: base.html puts app.js first).
  var studycircle = (window.studycircle = window.studycircle || {});

  // The CSRF token for a fetch() write: base.html's hx-headers, else the csrftoken cookie.
  studycircle.csrfToken = function () {
    try {
      var headers = JSON.parse(document.body.getAttribute("hx-headers") || "{}");
      if (headers["X-CSRFToken"]) return headers["X-CSRFToken"];
    } catch (error) {
      // fall through to the cookie
    }
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  };

  // <button data-copy-target="#id">: copy the target input's value.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy-target]");
    if (!button) return;
    var target = document.querySelector(button.getAttribute("data-copy-target"));
    if (!target) return;
    var done = function () {
      var label = button.textContent;
      button.textContent = "Copied";
      setTimeout(function () { button.textContent = label; }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(target.value).then(done);
    } else {
      target.select();
      document.execCommand("copy");
      done();
    }
  });

  // <form data-confirm="Really?"> or <button data-confirm="Really?">: ask before submitting.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var submitter = event.submitter;
    var question = (submitter && submitter.getAttribute("data-confirm")) || (form.getAttribute && form.getAttribute("data-confirm"));
    if (question && !window.confirm(question)) event.preventDefault();
  });

  // <form data-busy="Sending…"> sent by htmx: while the request is on its way the form is aria-busy
  // (its buttons are disabled by hx-disabled-elt) and the status line beside it
  // ([data-busy-status] in the same parent) says so; the answer's swap replaces both, and a failed
  // request puts the line back as it was.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = event.detail.elt;
    if (!form || !form.hasAttribute || !form.hasAttribute("data-busy")) return;
    form.setAttribute("aria-busy", "true");
    var status = form.parentNode && form.parentNode.querySelector("[data-busy-status]");
    if (status) {
      status.setAttribute("data-idle-text", status.textContent);
      status.textContent = form.getAttribute("data-busy");
    }
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt;
    if (!form || !form.hasAttribute || !form.hasAttribute("data-busy") || !form.isConnected) return;
    form.removeAttribute("aria-busy");
    var status = form.parentNode && form.parentNode.querySelector("[data-busy-status][data-idle-text]");
    if (status) {
      status.textContent = status.getAttribute("data-idle-text");
      status.removeAttribute("data-idle-text");
    }
  });

  // A list swapped in place by htmx (<section data-keeps-focus>, e.g. questions moved up or down):
  // focus stays on the same button of the same item, and a status line says what happened.
  var lastAction = null;
  document.addEventListener("htmx:beforeRequest", function (event) {
    var button = event.detail.elt;
    var form = button && button.form;
    var target = form && form.querySelector("input[name=target]");
    lastAction = target ? { target: target.value, action: button.value } : null;
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    var section = event.detail.elt && event.detail.elt.closest && event.detail.elt.closest("[data-keeps-focus]");
    if (!section) section = document.querySelector("[data-keeps-focus]");
    if (!section || !lastAction) return;
    var input = section.querySelector('input[name=target][value="' + lastAction.target + '"]');
    if (!input) return;
    var buttons = input.form.querySelectorAll('button[value="up"], button[value="down"]');
    var same = input.form.querySelector('button[value="' + lastAction.action + '"]');
    var focus = same && !same.disabled ? same : Array.prototype.find.call(buttons, function (b) { return !b.disabled; });
    if (focus) focus.focus();
    var status = document.getElementById("questions-status");
    var items = Array.prototype.slice.call(section.querySelectorAll("input[name=target]"));
    if (status) status.textContent = "Moved to place " + (items.indexOf(input) + 1) + " of " + items.length + ".";
    lastAction = null;
  });
})();
