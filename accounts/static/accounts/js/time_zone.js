// Sign-up: fill the hidden time zone field with the browser's zone (such as "America/Chicago"),
// so reminders reach the learner around 10:00 their time. Without script the field stays empty
// and the site's zone is used until the learner picks theirs on the profile.
(function () {
  "use strict";
  let zone = "";
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch (error) {
    return;
  }
  document.querySelectorAll("input[data-time-zone]").forEach((input) => {
    if (!input.value) input.value = zone;
  });
})();
