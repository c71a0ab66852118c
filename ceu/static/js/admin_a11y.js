// Django's filter_horizontal widget (topics, subjects) draws a search icon as a bare <span>
// with an aria-label, which assistive technology ignores on an element with no role (axe:
// aria-prohibited-attr). As an image, its label is read: "Type into this box to filter…".
// The widget is built on the window's load event, so this runs just after it.
window.addEventListener("load", () => {
  setTimeout(() => {
    for (const icon of document.querySelectorAll(".selector .search-label-icon[aria-label]")) {
      if (!icon.hasAttribute("role")) icon.setAttribute("role", "img");
    }
  });
});
