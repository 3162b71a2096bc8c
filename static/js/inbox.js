// The reviewer inbox: "select all" and the selected-row highlight for bulk approval.
document.addEventListener("DOMContentLoaded", function () {
  var all = document.getElementById("select-all");
  if (!all) { return; }
  all.addEventListener("change", function () {
    document.querySelectorAll("#inbox-table input[name=items]").forEach(function (box) {
      box.checked = all.checked;
      box.closest("tr").classList.toggle("is-selected", all.checked);
    });
  });
  document.querySelectorAll("#inbox-table input[name=items]").forEach(function (box) {
    box.addEventListener("change", function () { box.closest("tr").classList.toggle("is-selected", box.checked); });
  });
});
