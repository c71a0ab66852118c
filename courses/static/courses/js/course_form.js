// The course page's links that leave it (previews, the publishing checklist's, the post-test)
// save what the author typed first: the course form is submitted with where to go next, and the
// admin goes there once it is saved, or shows the form's errors with the typed edits still in it.
// Without edits, or without this script, the links are plain links.
(() => {
  const form = document.getElementById("course_form");
  // A read-only course (a registrar's view, a certified course) has nothing to save.
  if (!form || !form.querySelector("input[type=submit]")) return;
  // A form shown again with errors holds what was typed and not yet saved.
  let edited = Boolean(form.querySelector(".errorlist"));
  const mark = () => {
    edited = true;
  };
  form.addEventListener("input", mark);
  form.addEventListener("change", mark);
  document.addEventListener("click", (event) => {
    const link = event.target.closest("a[data-save-and-go]");
    if (!link || !edited || event.defaultPrevented) return;
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    const go = document.createElement("input");
    go.type = "hidden";
    go.name = "_save_and_go";
    go.value = link.dataset.saveAndGo;
    form.append(go);
    form.requestSubmit();
  });
})();
