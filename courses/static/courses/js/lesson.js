// The lesson page's player and heartbeat. The media starts at the chapter (or where the learner
// left it) and stops at the chapter's end. A heartbeat goes to the server every few seconds
// while the page is visible or the media plays; the server decides what time to credit.
(function () {
  "use strict";
  const dataNode = document.getElementById("lesson-data");
  if (!dataNode) return;
  const data = JSON.parse(dataNode.textContent);
  const media = document.getElementById("lesson-media");
  const bar = document.querySelector("[data-progress-bar]");
  const barFill = bar && bar.querySelector(".progress-bar");
  const progressText = document.querySelector("[data-progress-text]");
  const lessonStatus = document.querySelector("[data-lesson-status]");
  const hasMedia = media && data.start !== null && data.end !== null;
  // Until the media has loaded and been moved to where the learner left it, its currentTime
  // says nothing about them: beats then carry no position, so the saved one is kept.
  let positionKnown = false;

  function playing() {
    return hasMedia && !media.paused && !media.ended;
  }

  function send(keepalive) {
    const body = { playing: playing() };
    if (hasMedia && positionKnown) body.position = media.currentTime;
    return fetch(data.heartbeatUrl, {
      method: "POST",
      credentials: "same-origin",
      keepalive: Boolean(keepalive),
      headers: { "Content-Type": "application/json", "X-CSRFToken": data.csrfToken },
      body: JSON.stringify(body),
    })
      .then((response) => (response.ok ? response.json() : null))
      .then((beat) => beat && show(beat))
      .catch(() => {});
  }

  function show(beat) {
    if (barFill) {
      barFill.style.width = beat.percent + "%";
      bar.setAttribute("aria-valuenow", String(beat.percent));
      barFill.classList.toggle("bg-success", beat.percent >= 100);
    }
    if (progressText) {
      const minutes = Math.floor(beat.course_seconds / 60);
      progressText.textContent =
        beat.lessons_done + " of " + beat.lessons_total + " lessons done · " +
        minutes + " of " + data.minimumEngagedMinutes + " minutes engaged";
    }
    if (lessonStatus && beat.lesson_complete) lessonStatus.textContent = "Lesson complete.";
  }

  if (hasMedia) {
    const seekTo = function (seconds) {
      try { media.currentTime = seconds; } catch (error) { /* not seekable yet */ }
    };
    const resumeWhereLeft = function () {
      if (positionKnown) return;
      const resume = data.resumeAt >= data.end - 1 ? data.start : data.resumeAt;
      if (Math.abs(media.currentTime - resume) > 1) seekTo(resume);
      positionKnown = true;
    };
    media.addEventListener("loadedmetadata", resumeWhereLeft);
    // The metadata may have arrived before this deferred script ran.
    if (media.readyState >= 1) resumeWhereLeft();
    media.addEventListener("timeupdate", function () {
      if (media.currentTime >= data.end) {
        media.pause();
        seekTo(data.end);
      } else if (media.currentTime < data.start - 1) {
        seekTo(data.start);
      }
    });
    // Beat at once when playback starts or stops, so the clock starts and stops with it.
    media.addEventListener("play", function () { send(false); });
    media.addEventListener("pause", function () { send(false); });
    media.addEventListener("ended", function () { send(false); });
  }

  setInterval(function () {
    if (document.visibilityState === "visible" || playing()) send(false);
  }, data.intervalSeconds * 1000);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") send(true);
  });
  window.addEventListener("pagehide", function () { send(true); });
  send(false);
})();
