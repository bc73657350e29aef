"use strict";
// Apply the remembered 大字模式 / 高对比度 before the page is drawn (no flash of the other mode).
(function () {
  try {
    if (localStorage.getItem("sqa-large") === "1") document.documentElement.classList.add("large");
    if (localStorage.getItem("sqa-contrast") === "1") document.documentElement.classList.add("contrast");
  } catch (err) { /* storage blocked: default modes */ }
})();
