// The lesson page: a chapter player over the episode's media element, the transcript that
// follows it, and the heartbeat.
//
// The media element keeps the whole episode's clock (a chapter from 7:20 plays at currentTime
// 440 and on), and so do the captions track, the transcript's data-start and the positions the
// heartbeat sends, which the server compares with the chapter's stamps. Only what learners see
// runs from 0 to the chapter's length: the slider, the elapsed time and the transcript's times.
//
// A heartbeat goes to the server every few seconds while the page is visible or the media
// plays; the server decides what time to credit, and moves the furthest point heard on no
// faster than double speed, the fastest this player offers.
(function () {
  "use strict";

  function readJson(id) {
    const node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  const player = readJson("player-data");
  const beatData = readJson("lesson-data"); // only for an enrolled learner: a preview sends none
  const media = document.getElementById("lesson-media");
  const announcer = document.querySelector("[data-player-announcer]");
  const bar = document.querySelector("[data-progress-bar]");
  const barFill = bar && bar.querySelector(".progress-bar");
  const progressText = document.querySelector("[data-progress-text]");
  const lessonStatus = document.querySelector("[data-lesson-status]");
  const hasMedia = Boolean(media && player && player.start !== null && player.end !== null);
  // Until the media has loaded and been moved to where the learner left it, its currentTime
  // says nothing about them: beats then carry no position, so the saved one is kept.
  let positionKnown = false;

  // --- Saying what happened, politely and rarely ------------------------------------------------

  let announceTimer = null;
  function announce(text) {
    if (!announcer) return;
    // Emptied first, so the same words said twice are still announced twice.
    announcer.textContent = "";
    clearTimeout(announceTimer);
    announceTimer = setTimeout(function () { announcer.textContent = text; }, 100);
  }

  function clock(seconds) {
    const whole = Math.max(0, Math.floor(seconds));
    const hours = Math.floor(whole / 3600);
    const minutes = Math.floor((whole % 3600) / 60);
    const secs = String(whole % 60).padStart(2, "0");
    return hours ? hours + ":" + String(minutes).padStart(2, "0") + ":" + secs : minutes + ":" + secs;
  }

  function spoken(seconds) {
    const whole = Math.max(0, Math.floor(seconds));
    const minutes = Math.floor(whole / 60);
    const secs = whole % 60;
    const parts = [];
    if (minutes) parts.push(minutes + (minutes === 1 ? " minute" : " minutes"));
    if (secs || !minutes) parts.push(secs + (secs === 1 ? " second" : " seconds"));
    return parts.join(" ");
  }

  // --- The heartbeat -----------------------------------------------------------------------------

  function playing() {
    return hasMedia && !media.paused && !media.ended;
  }

  let lessonComplete = Boolean(player && player.complete);
  let coursePercent = bar ? Number(bar.getAttribute("aria-valuenow")) : 0;

  function send(keepalive) {
    const body = { playing: playing() };
    // The episode's clock, as the server expects: it checks positions against the chapter.
    if (hasMedia && positionKnown) body.position = media.currentTime;
    return fetch(beatData.heartbeatUrl, {
      method: "POST",
      credentials: "same-origin",
      keepalive: Boolean(keepalive),
      headers: { "Content-Type": "application/json", "X-CSRFToken": beatData.csrfToken },
      body: JSON.stringify(body),
    })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (beat) { if (beat) show(beat); })
      .catch(function () {});
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
        minutes + " of " + beatData.minimumEngagedMinutes + " minutes engaged";
    }
    const news = [];
    if (beat.lesson_complete && !lessonComplete) {
      lessonComplete = true;
      if (lessonStatus) lessonStatus.textContent = "Lesson complete.";
      news.push("Lesson complete. " + beat.lessons_done + " of " + beat.lessons_total + " lessons done.");
    }
    // The training's bar, announced at each quarter it passes, not at each beat.
    if (Math.floor(beat.percent / 25) > Math.floor(coursePercent / 25)) {
      news.push("Training progress: " + beat.percent + " percent.");
    }
    coursePercent = beat.percent;
    if (news.length) announce(news.join(" "));
  }

  // --- The chapter player ------------------------------------------------------------------------

  function setUpPlayer() {
    const start = player.start;
    const end = player.end;
    const length = end - start;
    const speeds = player.speeds || [0.75, 1, 1.25, 1.5, 1.75, 2];
    const controls = document.querySelector("[data-player-controls]");
    const playButton = document.querySelector("[data-player-play]");
    const slider = document.querySelector("[data-player-position]");
    const elapsed = document.querySelector("[data-player-elapsed]");
    const total = document.querySelector("[data-player-total]");
    const speedSelect = document.querySelector("[data-player-speed]");
    const transcript = document.querySelector("[data-transcript]");
    const lines = transcript ? Array.prototype.slice.call(transcript.querySelectorAll("li[data-start]")) : [];
    const cues = lines.map(function (line) {
      return { line: line, start: Number(line.dataset.start), end: Number(line.dataset.end) };
    });

    let current = null; // the transcript line being said
    // Quarters of the lesson played, announced once each as they are passed.
    let passedQuarters = 0;
    let shownSecond = -1;

    function clamp(value, low, high) { return Math.min(Math.max(value, low), high); }
    function seekTo(seconds) {
      try { media.currentTime = seconds; } catch (error) { /* not seekable yet */ }
    }
    function intoChapter() { return clamp(media.currentTime - start, 0, length); }

    // The custom controls replace the browser's, whose timeline is the whole episode.
    if (controls) {
      media.removeAttribute("controls");
      controls.hidden = false;
      document.querySelectorAll("[data-player-only]").forEach(function (node) { node.hidden = false; });
      document.querySelectorAll("[data-player-native-note]").forEach(function (node) { node.hidden = true; });
      slider.max = String(length);
      total.textContent = clock(length);
    }

    function togglePlay() {
      if (media.paused || media.ended) {
        // Played to the chapter's end: play it again from its start.
        if (media.currentTime >= end - 0.25) seekTo(start);
        const started = media.play();
        if (started && started.catch) started.catch(function () {});
      } else {
        media.pause();
      }
    }

    function skip(seconds) {
      seekTo(start + clamp(intoChapter() + seconds, 0, length));
      update();
    }

    function setSpeed(rate) {
      const speed = clamp(Number(rate) || 1, speeds[0], speeds[speeds.length - 1]);
      media.defaultPlaybackRate = speed;
      media.playbackRate = speed;
      if (speedSelect) speedSelect.value = String(speed);
      try { window.localStorage.setItem("ceu.playbackRate", String(speed)); } catch (error) { /* private mode */ }
      return speed;
    }

    function stepSpeed(direction) {
      const index = speeds.indexOf(media.playbackRate);
      const next = index === -1 ? speeds.indexOf(1) : clamp(index + direction, 0, speeds.length - 1);
      const speed = setSpeed(speeds[next]);
      announce("Speed " + speed + " times.");
    }

    let stored = null;
    try { stored = window.localStorage.getItem("ceu.playbackRate"); } catch (error) { /* private mode */ }
    if (stored && speeds.indexOf(Number(stored)) !== -1) setSpeed(stored);

    // The transcript: each line becomes a button that moves the player to it.
    cues.forEach(function (cue) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "transcript-seek";
      while (cue.line.firstChild) button.appendChild(cue.line.firstChild);
      cue.line.appendChild(button);
      button.addEventListener("click", function () {
        seekTo(cue.start);
        update();
      });
    });
    if (transcript && cues.length) transcript.classList.add("is-scrollable");

    function highlight() {
      const now = media.currentTime;
      let found = null;
      for (let i = 0; i < cues.length; i++) {
        if (cues[i].start <= now && now < cues[i].end) { found = cues[i]; break; }
      }
      if (found === current) return;
      if (current) {
        current.line.removeAttribute("aria-current");
        current.line.classList.remove("is-current");
      }
      current = found;
      if (!current) return;
      current.line.setAttribute("aria-current", "true");
      current.line.classList.add("is-current");
      // Keep the line in view inside the transcript box, without moving the page, and not
      // while the learner is working in the transcript themselves.
      if (!transcript.contains(document.activeElement)) {
        const top = current.line.offsetTop;
        const bottom = top + current.line.offsetHeight;
        if (top < transcript.scrollTop || bottom > transcript.scrollTop + transcript.clientHeight) {
          transcript.scrollTop = Math.max(0, top - transcript.clientHeight / 3);
        }
      }
    }

    function update() {
      const into = intoChapter();
      const second = Math.floor(into);
      if (controls && second !== shownSecond) {
        shownSecond = second;
        slider.value = String(second);
        slider.setAttribute("aria-valuetext", spoken(second) + " of " + spoken(length));
        elapsed.textContent = clock(second);
      }
      if (playButton) {
        const label = media.paused || media.ended ? "Play" : "Pause";
        if (playButton.textContent !== label) playButton.textContent = label;
      }
      highlight();
      if (positionKnown && playing()) {
        const quarters = Math.min(3, Math.floor(into / length * 4));
        if (quarters > passedQuarters) {
          passedQuarters = quarters;
          announce(quarters * 25 + " percent of this lesson played.");
        }
      }
    }

    media.addEventListener("timeupdate", function () {
      if (media.currentTime >= end) {
        media.pause();
        seekTo(end);
      } else if (media.currentTime < start - 1) {
        seekTo(start);
      }
      update();
    });
    ["play", "pause", "seeked", "ended", "ratechange"].forEach(function (name) {
      media.addEventListener(name, update);
    });

    if (controls) {
      playButton.addEventListener("click", togglePlay);
      controls.querySelectorAll("[data-player-skip]").forEach(function (button) {
        button.addEventListener("click", function () { skip(Number(button.dataset.playerSkip)); });
      });
      slider.addEventListener("input", function () {
        seekTo(start + clamp(Number(slider.value), 0, length));
        update();
      });
      speedSelect.addEventListener("change", function () { setSpeed(speedSelect.value); });
    }

    // Keyboard shortcuts, listed on the page. Never while the learner types in a field, and
    // Space keeps its own meaning on buttons, links and the like.
    function typing(target) {
      if (!(target instanceof Element)) return false;
      if (target.isContentEditable) return true;
      if (target.tagName === "TEXTAREA" || target.tagName === "SELECT") return true;
      if (target.tagName === "INPUT") {
        return ["range", "checkbox", "radio", "button", "submit", "reset"].indexOf(target.type) === -1;
      }
      return false;
    }
    function spaceIsTheirs(target) {
      return target instanceof Element &&
        Boolean(target.closest("button, a[href], summary, input, [role='button'], [role='link']"));
    }
    document.addEventListener("keydown", function (event) {
      if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
      if (typing(event.target)) return;
      switch (event.key) {
        case " ":
          if (spaceIsTheirs(event.target)) return;
          togglePlay();
          break;
        case "k": case "K":
          togglePlay();
          break;
        case "j": case "J":
          skip(-15);
          announce(clock(intoChapter()) + " of " + clock(length) + ".");
          break;
        case "l": case "L":
          skip(15);
          announce(clock(intoChapter()) + " of " + clock(length) + ".");
          break;
        case "<":
          stepSpeed(-1);
          break;
        case ">":
          stepSpeed(1);
          break;
        default:
          return;
      }
      event.preventDefault();
    });

    function resumeWhereLeft() {
      if (positionKnown) return;
      const resume = player.resumeAt >= end - 1 ? start : player.resumeAt;
      if (Math.abs(media.currentTime - resume) > 1) seekTo(resume);
      positionKnown = true;
      passedQuarters = clamp(Math.floor((resume - start) / length * 4), 0, 3);
      update();
    }
    media.addEventListener("loadedmetadata", resumeWhereLeft);
    // The metadata may have arrived before this deferred script ran.
    if (media.readyState >= 1) resumeWhereLeft();
    update();

    if (beatData) {
      // Beat at once when playback starts or stops, so the clock starts and stops with it.
      media.addEventListener("play", function () { send(false); });
      media.addEventListener("pause", function () { send(false); });
      media.addEventListener("ended", function () { send(false); });
    }
  }

  if (hasMedia) setUpPlayer();

  if (beatData) {
    setInterval(function () {
      if (document.visibilityState === "visible" || playing()) send(false);
    }, beatData.intervalSeconds * 1000);
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "hidden") send(true);
    });
    window.addEventListener("pagehide", function () { send(true); });
    send(false);
  }
})();
