// Small behaviours shared by every page. No inline scripts: the Content-Security-Policy forbids them.
document.addEventListener("htmx:responseError", function (event) {
  // htmx leaves the page unchanged on errors; say so instead of failing silently.
  var box = document.getElementById("htmx-error");
  if (box) { box.classList.remove("d-none"); }
});
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
