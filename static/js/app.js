// Behaviour every page may use, bound here because the Content-Security-Policy allows no inline script.
document.addEventListener("click", function (event) {
  var back = event.target.closest("[data-history-back]");
  if (back && window.history.length > 1) {
    event.preventDefault();
    window.history.back();
  }
});
