// A form that comes back with errors starts where the errors are: focus moves to its error
// summary ([data-error-summary], or else the page's error message), so keyboard and screen-reader
// users hear what went wrong first. A link in the summary takes focus to the field it names.
(function () {
  "use strict";

  const summary =
    document.querySelector("[data-error-summary]") ||
    document.querySelector(".messages .alert-danger");
  if (!summary) return;

  if (!summary.hasAttribute("tabindex")) summary.setAttribute("tabindex", "-1");
  summary.focus();

  summary.addEventListener("click", (event) => {
    const link = event.target.closest("a[href^='#']");
    if (!link) return;
    const target = document.getElementById(decodeURIComponent(link.hash.slice(1)));
    if (!target) return;
    const field = target.matches("input, select, textarea")
      ? target
      : target.querySelector("input, select, textarea");
    if (!field) return;
    event.preventDefault();
    // The question or the field's label in view, not just the box itself.
    (target.closest("fieldset") || field.closest(".mb-3") || field).scrollIntoView({ block: "start" });
    field.focus({ preventScroll: true });
  });
})();
