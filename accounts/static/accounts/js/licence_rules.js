// The licence form: as soon as a profession and a state are chosen, show what the board's rule
// says (how the renewal date is set, the hours) from GET /accounts/licences/rules/, with buttons
// that copy the board's figures into the form. The learner may change both; theirs are kept.
// Without script, the "Show my board's rule" button asks the server for the same hint.
(function () {
  "use strict";
  const box = document.getElementById("licence-rule-hint");
  const profession = document.getElementById("id_profession");
  const jurisdiction = document.getElementById("id_jurisdiction");
  const hours = document.getElementById("id_hours_required");
  const renewal = document.getElementById("id_renewal_date");
  const issued = document.getElementById("id_issued_on");
  if (!box || !profession || !jurisdiction || !box.dataset.rulesUrl) return;
  document.querySelectorAll("[data-suggest-button]").forEach((button) => {
    button.hidden = true;
  });

  let asked = 0;

  function paragraph(className, ...parts) {
    const p = document.createElement("p");
    p.className = className;
    p.append(...parts);
    return p;
  }

  // The site's one date format, as the server prints it: "Nov 28, 2026".
  function longDate(iso) {
    const [year, month, day] = iso.split("-").map(Number);
    return new Date(year, month - 1, day).toLocaleDateString("en-US", {
      year: "numeric",
      month: "short",
      day: "numeric",
    });
  }

  function useButton(label, apply) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "btn btn-sm btn-outline-primary me-2 mt-1";
    button.textContent = label;
    button.addEventListener("click", apply);
    return button;
  }

  function show(data) {
    const hint = document.createElement("div");
    hint.dataset.ruleHint = "";
    if (!data || !data.found) {
      hint.className = "alert alert-secondary small mb-0";
      hint.textContent = data
        ? data.hint
        : "The board's rule could not be fetched just now. Enter the renewal date and the hours your board gives you.";
      box.replaceChildren(hint);
      return;
    }
    hint.className = "alert alert-info small mb-0";
    let renewalText = data.renewal;
    if (data.renewal_date && data.renewal_date_from_issue_date) {
      renewalText += ` Counted from the date you were first licensed, your next renewal falls on ${longDate(data.renewal_date)}.`;
    } else if (data.renewal_date) {
      renewalText += ` Next renewal date on this rule: ${longDate(data.renewal_date)}.`;
    }
    const finalWord = document.createElement("strong");
    finalWord.textContent = data.final_word;
    hint.append(
      paragraph("fw-semibold mb-1", `What the ${data.board} asks`),
      paragraph("mb-1", renewalText),
      paragraph("mb-1", data.hours),
      paragraph(
        "mb-0",
        `This site checked the rule on ${longDate(data.checked_on)}. `,
        finalWord,
        " Enter the renewal date and hours your board gives you, and yours are kept.",
      ),
    );
    const buttons = document.createElement("div");
    if (data.hours_required !== null && hours) {
      buttons.append(
        useButton(`Use ${data.hours_required} hours`, () => {
          hours.value = data.hours_required;
          hours.focus();
        }),
      );
    }
    if (data.renewal_date && renewal) {
      buttons.append(
        useButton(`Use ${longDate(data.renewal_date)}`, () => {
          renewal.value = data.renewal_date;
          renewal.focus();
        }),
      );
    }
    if (buttons.childElementCount) hint.append(buttons);
    box.replaceChildren(hint);
  }

  async function update() {
    if (!jurisdiction.value || !profession.value) {
      box.replaceChildren();
      return;
    }
    const ask = ++asked;
    const query = new URLSearchParams({
      jurisdiction: jurisdiction.value,
      profession: profession.value,
    });
    // A date the browser has not finished parsing reads as ""; only a whole past date is sent
    // (the form itself says why a future one is refused when it is saved).
    const today = new Date().toLocaleDateString("en-CA");
    if (issued && /^\d{4}-\d{2}-\d{2}$/.test(issued.value) && issued.value <= today) {
      query.set("issued_on", issued.value);
    }
    let data = null;
    try {
      const response = await fetch(`${box.dataset.rulesUrl}?${query}`, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
      if (response.ok) data = await response.json();
    } catch (error) {
      data = null;
    }
    if (ask === asked) show(data); // a later choice may have answered first
  }

  profession.addEventListener("change", update);
  jurisdiction.addEventListener("change", update);
  if (issued) issued.addEventListener("change", update);
})();
