// The customer core's small behaviours: the shared modal (crm/partials/modal.html) that htmx fills
// with a form, the quick picks of the follow-up form and the toast after a save (confirmations: app.js).
// Loaded by the modal partial; no inline scripts (the Content-Security-Policy forbids them).
(function () {
  "use strict";
  var modalEl = document.getElementById("crm-modal");
  var content = document.getElementById("crm-modal-content");
  var loading = content ? content.innerHTML : "";

  function modal() { return window.bootstrap.Modal.getOrCreateInstance(modalEl); }

  function focusFirst() {
    var field = content && content.querySelector("[autofocus]");
    if (field && document.activeElement !== field) { field.focus(); }
  }

  function showMessage(text, danger) {
    var toastEl = document.getElementById("crm-toast");
    if (!toastEl || !text) { return; }
    toastEl.classList.toggle("text-bg-success", !danger);
    toastEl.classList.toggle("text-bg-danger", !!danger);
    toastEl.querySelector(".toast-body").textContent = text;
    window.bootstrap.Toast.getOrCreateInstance(toastEl, { delay: 2500 }).show();
  }

  if (modalEl && content) {
    modalEl.addEventListener("shown.bs.modal", focusFirst);
    modalEl.addEventListener("hidden.bs.modal", function () { content.innerHTML = loading; });

    document.addEventListener("htmx:afterSettle", function (event) {
      if (event.detail.target !== content) { return; }
      if (!modalEl.classList.contains("show")) { modal().show(); }
      focusFirst();
    });

    document.addEventListener("htmx:responseError", function (event) {
      if (event.detail.target !== content || event.detail.xhr.status === 422) { return; }
      var body = document.createElement("div");
      body.className = "modal-body text-center py-5 text-danger";
      body.setAttribute("role", "alert");
      body.textContent = modalEl.dataset.errorText;
      content.replaceChildren(body);
    });

    // Sent by the server (HX-Trigger) once a form in the modal is saved.
    document.addEventListener("crmModalClose", function () { modal().hide(); });
    document.addEventListener("followupLogged", function (event) {
      showMessage(modalEl.dataset.savedText);
      updateFollowupCells(event.detail || {});
    });
  }

  // Lists may mark the cells that show a customer's follow-up times:
  //   <span data-followup-next-for="42" data-overdue-class="text-danger fw-semibold">…</span>
  //   <span data-followup-last-for="42">…</span>
  // and they are brought up to date after a follow-up is logged, without a reload.
  function updateFollowupCells(detail) {
    if (!detail.customer) { return; }
    [["next", detail.next_display], ["last", detail.last_display]].forEach(function (pair) {
      var selector = "[data-followup-" + pair[0] + "-for='" + String(detail.customer) + "']";
      document.querySelectorAll(selector).forEach(function (cell) {
        cell.textContent = pair[1];
        if (pair[0] === "next" && cell.dataset.overdueClass) {
          cell.dataset.overdueClass.split(" ").forEach(function (name) { if (name) { cell.classList.remove(name); } });
        }
      });
    });
  }

  // Quick picks: a button that puts its value into an input ("明天" → tomorrow 09:00).
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-fill-target]");
    if (!button) { return; }
    var input = document.querySelector(button.dataset.fillTarget);
    if (!input) { return; }
    input.value = button.dataset.fillValue;
    input.dispatchEvent(new Event("change", { bubbles: true }));
  });
})();
