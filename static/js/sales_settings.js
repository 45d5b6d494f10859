// Sales settings: drag a pipeline's stages by their handle to reorder them. The new order (every stage
// id, first first) is POSTed with the CSRF token; the answer is the list as the server saved it, which
// replaces the list. A refusal (409: the stages changed meanwhile) puts the stages back and shows why.
(function () {
  var sortable = null;

  function showError(text) {
    var box = document.getElementById("stage-order-error");
    if (box) { box.textContent = text; box.classList.remove("d-none"); }
    var saved = document.getElementById("stage-order-saved");
    if (saved) { saved.classList.add("d-none"); }
  }

  function showSaved() {
    var box = document.getElementById("stage-order-error");
    if (box) { box.classList.add("d-none"); }
    var saved = document.getElementById("stage-order-saved");
    if (saved) { saved.classList.remove("d-none"); }
  }

  function save(list, before) {
    var holder = document.getElementById("stage-order");
    var body = new URLSearchParams();
    sortable.toArray().forEach(function (id) { body.append("stage_ids", id); });
    list.classList.add("opacity-50");
    fetch(holder.dataset.url, {
      method: "POST", body: body, credentials: "same-origin",
      headers: {"X-CSRFToken": holder.querySelector("input[name=csrfmiddlewaretoken]").value,
                "X-Requested-With": "fetch"}
    }).then(function (response) {
      return response.text().then(function (text) { return {ok: response.ok, status: response.status, text: text}; });
    }).then(function (answer) {
      list.classList.remove("opacity-50");
      if (answer.ok) {
        list.outerHTML = answer.text;
        init();
        showSaved();
      } else {
        sortable.sort(before, true);
        showError(answer.status === 409 || answer.status === 400 || answer.status === 401 ? answer.text : list.dataset.failed || answer.text);
      }
    }).catch(function () {
      list.classList.remove("opacity-50");
      sortable.sort(before, true);
      showError(list.dataset.failed || "");
    });
  }

  function init() {
    var list = document.getElementById("stage-list");
    if (!list || typeof Sortable === "undefined" || !document.getElementById("stage-order")) { return; }
    var before = null;
    // Set through the CSSOM: the Content-Security-Policy blocks style attributes in the markup.
    list.querySelectorAll(".stage-handle").forEach(function (handle) { handle.style.cursor = "grab"; });
    sortable = Sortable.create(list, {
      handle: ".stage-handle", draggable: ".list-group-item", animation: 120, ghostClass: "opacity-50",
      onStart: function () { before = sortable.toArray(); },
      onEnd: function (event) {
        if (event.oldIndex === event.newIndex) { return; }
        save(list, before);
      }
    });
  }

  document.addEventListener("DOMContentLoaded", init);
})();
