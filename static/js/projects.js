/* Enterprise entry pages: small conveniences only; every page works without this file. */
(function () {
  "use strict";

  // 打印按钮 on the printable 附件1.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-print]");
    if (button) {
      event.preventDefault();
      window.print();
    }
  });

  // Permit picker: drawing reviews of one project only. Ticking one greys out other projects' boxes
  // (the server checks the same rule when JavaScript is off).
  function syncPicker() {
    var boxes = document.querySelectorAll("#picker-table input[name=review]");
    var chosen = null;
    boxes.forEach(function (box) { if (box.checked) { chosen = box.dataset.project; } });
    boxes.forEach(function (box) {
      box.disabled = chosen !== null && box.dataset.project !== chosen;
      box.closest("tr").classList.toggle("is-selected", box.checked);
    });
  }
  document.addEventListener("change", function (event) {
    if (event.target.matches("#picker-table input[name=review]")) { syncPicker(); }
  });
  document.addEventListener("htmx:afterSwap", syncPicker);
  document.addEventListener("DOMContentLoaded", syncPicker);
})();
