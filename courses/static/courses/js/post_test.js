// "Add another question" on the post-test editor: a copy of the blank question kept in the page
// (its choices included), numbered after the last, with the formset's count raised to match.
// Without this script the page still offers blank questions, and "Save and keep editing" more.
(() => {
  const template = document.getElementById("blank-question");
  const button = document.getElementById("add-question");
  const total = document.getElementById("id_questions-TOTAL_FORMS");
  if (!template || !button || !total) return;
  button.hidden = false;
  button.addEventListener("click", () => {
    const index = Number(total.value);
    const number = document.querySelectorAll(".post-test-question").length + 1;
    const html = template.innerHTML
      .replaceAll("__prefix__", String(index))
      .replaceAll("__number__", String(number));
    const row = button.closest(".add-question-row");
    row.insertAdjacentHTML("beforebegin", html);
    total.value = String(index + 1);
    row.previousElementSibling.querySelector("select, textarea, input")?.focus();
  });
})();
