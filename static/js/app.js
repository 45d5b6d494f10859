// Small behaviours shared by every page. No inline scripts: the Content-Security-Policy forbids them.

// A failed htmx request leaves the page as it was; say so in a box made from base.html's
// <template id="htmx-error"> (nothing of it is on the page until then).
// The server answers a fragment's request that needs another page with HX-Redirect, which htmx
// follows before any of this; a 401 that comes without it (the session ended) shows its message and
// a link to sign in again, and no htmx request is sent after it: a poll (the bell) must not go on
// asking, nor anything swap a login page into a fragment.
(function () {
  "use strict";
  var sessionEnded = false;

  function texts() { return (document.getElementById("htmx-error") || {dataset: {}}).dataset; }

  function box() {
    var el = document.querySelector("[data-testid=htmx-error]");
    var template = document.getElementById("htmx-error");
    if (!el && template) {
      el = template.content.firstElementChild.cloneNode(true);
      document.body.appendChild(el);
    }
    return el;
  }

  function show(text, signIn) {
    var el = box();
    if (!el) { return; }
    el.querySelector("[data-htmx-error-text]").textContent = text;
    var link = el.querySelector("[data-htmx-error-login]");
    link.classList.toggle("d-none", !signIn);
    if (signIn) {
      var url = new URL(link.getAttribute("href"), window.location.href);
      url.searchParams.set("next", window.location.pathname + window.location.search);
      link.setAttribute("href", url.pathname + url.search);
    }
    el.classList.remove("d-none");
  }

  function plainText(xhr) {
    var type = xhr.getResponseHeader("Content-Type") || "";
    return type.indexOf("text/plain") === 0 ? xhr.responseText.trim() : "";
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    if (sessionEnded) { event.preventDefault(); }
  });

  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    if (xhr.status === 401) {
      sessionEnded = true;
      show(plainText(xhr) || texts().errorText, true);
    } else if (!(event.detail.target && event.detail.target.closest("[data-htmx-own-errors]"))) {
      show(plainText(xhr) || texts().errorText, false);
    }
  });

  document.addEventListener("htmx:sendError", function () { show(texts().offlineText, false); });

  document.addEventListener("click", function (event) {
    var close = event.target.closest("[data-htmx-error-close]");
    if (close) { close.closest("[data-testid=htmx-error]").classList.add("d-none"); }
  });
})();

document.addEventListener("htmx:beforeSwap", function (event) {
  // Forms answered with 422 carry their own errors, and 429 (too many requests) says what to do: show them.
  var status = event.detail.xhr.status;
  if (status === 422 || status === 429) { event.detail.shouldSwap = true; event.detail.isError = false; }
});

// Plain forms that ask first (archive, release, delete for good, delete a checklist item).
document.addEventListener("submit", function (event) {
  var form = event.target.closest("form[data-confirm]");
  if (form && !window.confirm(form.dataset.confirm)) { event.preventDefault(); }
});

// The settings sidebar is a row that scrolls sideways on narrow screens: bring the open page's link into view.
document.addEventListener("DOMContentLoaded", function () {
  "use strict";
  var nav = document.querySelector(".settings-nav");
  var active = nav && nav.querySelector(".nav-link.active");
  if (active && nav.scrollWidth > nav.clientWidth) {
    nav.scrollLeft = active.offsetLeft - (nav.clientWidth - active.offsetWidth) / 2;
  }
});
