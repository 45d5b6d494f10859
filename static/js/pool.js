// The customer pool page: "select all" ticks every customer shown, also rows loaded later.
document.addEventListener("change", function (event) {
  var all = event.target.closest("[data-select-all]");
  if (!all) { return; }
  var form = all.closest("form");
  form.querySelectorAll("input[name=ids]").forEach(function (box) { box.checked = all.checked; });
});
