// steadystyle study game: show a pair in random order, store the participant's pick.
"use strict";

const $ = (id) => document.getElementById(id);
const game = { trial: null, votes: 0, busy: false, errors: [] };
window.study = game;

function participant() {
  let id = localStorage.getItem("steadystyle-participant");
  if (!id) {
    id = "p" + Math.random().toString(36).slice(2, 12);
    localStorage.setItem("steadystyle-participant", id);
  }
  return id;
}

function mediaElement(kind, url) {
  const el = document.createElement(kind === "video" ? "video" : "img");
  el.src = url;
  if (kind === "video") { el.autoplay = true; el.loop = true; el.muted = true; el.playsInline = true; }
  return el;
}

let requested = 0;  // only the newest request's pair is shown (a round change may overtake a load)

async function next() {
  const mine = ++requested;
  const round = $("round").value;
  const query = new URLSearchParams({ participant: participant() });
  if (round) query.set("round", round);
  const response = await fetch(`/api/study/next?${query}`);
  const trial = await response.json();
  if (mine !== requested) return;
  if (!response.ok) { $("error").textContent = trial.error; game.errors.push(trial.error); return; }
  game.trial = trial;
  $("prompt").textContent = trial.prompt;
  for (const side of ["left", "right"]) {
    const box = $(`${side}-media`);
    box.innerHTML = "";
    box.appendChild(mediaElement(trial.kind, trial.media[side]));
  }
  game.votes = trial.votes_so_far;
  $("count").textContent = game.votes;
}

async function pick(choice) {
  if (!game.trial || game.busy) return;
  game.busy = true;
  try {
    const t = game.trial;
    const response = await fetch("/api/study/vote", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ participant: participant(), pair: t.pair, round: t.round, left: t.left, choice }),
    });
    const answer = await response.json();
    if (!response.ok) { $("error").textContent = answer.error; game.errors.push(answer.error); return; }
    game.votes += 1;
    $("count").textContent = game.votes;
    await next();
  } finally {
    game.busy = false;
  }
}

$("left").addEventListener("click", () => pick("left"));
$("right").addEventListener("click", () => pick("right"));
$("round").addEventListener("change", next);
document.addEventListener("keydown", (e) => {
  if (e.key === "ArrowLeft") pick("left");
  if (e.key === "ArrowRight") pick("right");
});
next().then(() => { game.ready = true; });
