// Line items of a deal or a quote (sales/partials/lines_formset.html): "add a line" clones the empty
// row of the formset; ticking "remove" greys a saved row out, and removes a row added here; the amount
// of each row and the sums are worked out as one types (the server computes them again on save).
// On the print page, the print button prints.
(function () {
  "use strict";

  function number(input) {
    var value = input ? parseFloat(input.value) : NaN;
    return isNaN(value) ? null : value;
  }

  function money(value) {
    return "¥" + value.toLocaleString("zh-CN", {minimumFractionDigits: 2, maximumFractionDigits: 2});
  }

  function prices() {
    var holder = document.getElementById("product-prices");
    return holder ? JSON.parse(holder.textContent) : {};
  }

  function field(row, name) {
    return row.querySelector("[data-line='" + name + "']");
  }

  function recompute(form, listPrices) {
    var sum = 0;
    form.querySelectorAll("#line-rows .line-row").forEach(function (row) {
      var product = field(row, "product");
      var unit = field(row, "unit_price");
      var listPrice = product && listPrices[product.value] !== undefined ? parseFloat(listPrices[product.value]) : null;
      if (unit) { unit.placeholder = listPrice === null ? "" : listPrice.toFixed(2); }
      var price = number(unit);
      if (price === null) { price = listPrice; }
      var quantity = number(field(row, "quantity"));
      var discount = number(field(row, "discount")) || 0;
      var removed = field(row, "delete") && field(row, "delete").checked;
      var output = field(row, "total");
      if (!product || !product.value || price === null || quantity === null || removed) {
        if (output) { output.textContent = ""; }
        return;
      }
      var amount = Math.round(quantity * price * (100 - discount)) / 100;
      if (output) { output.textContent = money(amount); }
      sum += amount;
    });
    var sumBox = document.getElementById("lines-sum");
    if (sumBox) { sumBox.textContent = money(sum); }
    var totalBox = document.getElementById("quote-total");
    var extra = form.querySelector("[data-line='extra']");
    if (totalBox) { totalBox.textContent = money(Math.round(sum * (100 - (number(extra) || 0))) / 100); }
  }

  function addRow(form) {
    var total = form.querySelector("input[name='lines-TOTAL_FORMS']");
    var template = document.getElementById("line-template");
    var index = parseInt(total.value, 10);
    var holder = document.createElement("div");
    holder.innerHTML = template.innerHTML.replace(/__prefix__/g, String(index));
    var row = holder.firstElementChild;
    row.dataset.added = "1";
    document.getElementById("line-rows").appendChild(row);
    total.value = String(index + 1);
    var select = field(row, "product");
    if (select) { select.focus(); }
  }

  function setUp(form) {
    var listPrices = prices();
    form.addEventListener("input", function () { recompute(form, listPrices); });
    form.addEventListener("change", function (event) {
      var box = event.target;
      if (box.matches("[data-line='delete']")) {
        var row = box.closest(".line-row");
        if (box.checked && row.dataset.added) {
          // A row added on this page and removed again: left in place but empty and hidden, so the
          // numbering of the formset stays as the server expects.
          row.querySelectorAll("input, select").forEach(function (input) {
            if (input !== box) { input.value = ""; }
          });
          row.classList.add("d-none");
        } else {
          row.classList.toggle("opacity-50", box.checked);
        }
      }
      recompute(form, listPrices);
    });
    var add = form.querySelector("[data-action='add-line']");
    if (add) {
      add.addEventListener("click", function () { addRow(form); recompute(form, listPrices); });
    }
    recompute(form, listPrices);
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form.quote-lines").forEach(setUp);
    var print = document.querySelector("[data-action='print']");
    if (print) { print.addEventListener("click", function () { window.print(); }); }
  });
})();
