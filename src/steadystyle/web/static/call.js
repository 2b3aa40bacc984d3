// steadystyle call page: camera → WebRTC → server (stylize + stabilize) → painted video back.
"use strict";

const $ = (id) => document.getElementById(id);
const state = {
  pc: null, channel: null, stream: null, session: null, state: "idle",
  stats: null, controls: null, errors: [], framesShown: 0, fpsShown: 0, preparing: null, prepared: [],
};
window.steadystyle = state;  // for the browser tests and the curious

function setState(text) { state.state = text; $("state").textContent = text; }
function showError(text) { state.errors.push(text); $("error").textContent = text; }

async function loadConfig() {
  const config = await (await fetch("/api/config")).json();
  const fill = (select, values, chosen) => {
    select.innerHTML = "";
    for (const v of values) {
      const o = document.createElement("option");
      o.value = o.textContent = v;
      if (v === chosen) o.selected = true;
      select.appendChild(o);
    }
  };
  fill($("style"), config.styles, config.style);
  fill($("method"), config.methods, config.method);
  fill($("size"), config.sizes, config.size);
  $("study-link").hidden = !config.study;
  const start = config.controls || {};
  for (const [id, key] of SLIDERS) {
    if (typeof start[key] === "number") $(id).value = start[key];
    showSlider(id);
  }
  // without the face models on the server only 0 (off) is possible
  $("face-detail").disabled = !config.faces;
  if (!config.faces) $("face-detail").title = "the server has no face models (pip install 'steadystyle[face]')";
  state.config = config;
  return config;
}

// The 0–1 sliders: element id → control key.
const SLIDERS = [["strength", "strength"], ["steadiness", "steadiness"], ["face-detail", "face_detail"]];

function showSlider(id) { $(`${id}-value`).textContent = parseFloat($(id).value).toFixed(2); }

function controls() {
  const c = {
    style: $("style").value, method: $("method").value, size: $("size").value,
    strength: parseFloat($("strength").value), steadiness: parseFloat($("steadiness").value),
    preserve_colors: $("preserve").checked,
  };
  if (!$("face-detail").disabled) c.face_detail = parseFloat($("face-detail").value);
  return c;
}

function sendControl(change) {
  if (state.channel && state.channel.readyState === "open") {
    state.channel.send(JSON.stringify(change));
  }
}

// Resolves when ICE gathering completes; rejects with a clear message after `seconds`.
function waitIceGathering(pc, seconds) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve, reject) => {
    const check = () => {
      if (pc.iceGatheringState === "complete") {
        pc.removeEventListener("icegatheringstatechange", check);
        clearTimeout(timer);
        resolve();
      }
    };
    const timer = setTimeout(() => {
      pc.removeEventListener("icegatheringstatechange", check);
      reject(new Error(`the browser found no network path within ${seconds} s (ICE gathering did not finish); ` +
                       "check that WebRTC is not blocked by a browser setting, extension or firewall, then try again"));
    }, seconds * 1000);
    pc.addEventListener("icegatheringstatechange", check);
  });
}

function showPreparing(style) {
  state.preparing = style;
  $("notice").textContent = style ? `preparing style ${style}… (the first use of a style can take a few seconds)` : "";
}

function countShownFrames(video) {
  if (!video.requestVideoFrameCallback) return;
  let window0 = performance.now(), inWindow = 0;
  const onFrame = () => {
    state.framesShown += 1; inWindow += 1;
    const now = performance.now();
    if (now - window0 >= 1000) {
      state.fpsShown = inWindow * 1000 / (now - window0);
      $("fps-shown").textContent = state.fpsShown.toFixed(1);
      window0 = now; inWindow = 0;
    }
    video.requestVideoFrameCallback(onFrame);
  };
  video.requestVideoFrameCallback(onFrame);
}

function onMessage(event) {
  const msg = JSON.parse(event.data);
  if (msg.type === "stats") {
    state.stats = msg;
    $("fps-server").textContent = `${msg.fps_in} / ${msg.fps_out}`;
    $("latency").textContent = msg.latency_ms.p50 == null ? "–" : `${msg.latency_ms.p50} / ${msg.latency_ms.p95}`;
    $("network").textContent = msg.network_ms == null ? "–" : msg.network_ms;
    $("dropped").textContent = msg.dropped;
    if (msg.error) showError(msg.error);
  } else if (msg.type === "preparing") {
    state.prepared.push(msg.style);
    showPreparing(msg.style);
  } else if (msg.type === "controls") {
    state.controls = msg.controls;
    if (state.preparing && msg.controls.style === state.preparing) showPreparing(null);
  } else if (msg.type === "error") {
    if (state.preparing) showPreparing(null);
    showError(msg.error);
  }
}

async function pollRtt() {
  while (state.pc) {
    try {
      const report = await state.pc.getStats();
      report.forEach((s) => {
        if (s.type === "candidate-pair" && s.nominated && s.currentRoundTripTime !== undefined) {
          $("rtt").textContent = (s.currentRoundTripTime * 1000).toFixed(0);
        }
      });
    } catch (e) { /* closed */ }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

async function start() {
  $("start").disabled = true;
  $("error").textContent = "";
  setState("camera");
  try {
    state.stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio: false });
  } catch (e) {
    showError(`no camera: ${e.message} (pages need https:// or localhost for the camera)`);
    setState("idle"); $("start").disabled = false; return;
  }
  $("camera").srcObject = state.stream;
  const pc = new RTCPeerConnection({ iceServers: [] });
  state.pc = pc;
  const channel = pc.createDataChannel("control");
  state.channel = channel;
  channel.onmessage = onMessage;
  for (const track of state.stream.getVideoTracks()) pc.addTrack(track, state.stream);
  pc.ontrack = (event) => { $("painted").srcObject = event.streams[0] || new MediaStream([event.track]); };
  pc.onconnectionstatechange = () => setState(pc.connectionState);
  setState("connecting");
  await pc.setLocalDescription(await pc.createOffer());
  try {
    await waitIceGathering(pc, (state.config && state.config.gather_timeout_s) || 10);
  } catch (e) {
    showError(e.message);
    await stop(); setState("no network path"); return;
  }
  const response = await fetch("/offer", {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ sdp: pc.localDescription.sdp, type: pc.localDescription.type, ...controls() }),
  });
  const answer = await response.json();
  if (!response.ok) {
    showError(answer.error || `offer refused (${response.status})`);
    await stop(); return;
  }
  state.session = answer.session;
  state.controls = answer.controls;
  await pc.setRemoteDescription({ sdp: answer.sdp, type: answer.type });
  $("stop").disabled = false;
  pollRtt();
}

async function stop() {
  sendControl({ type: "bye" });
  if (state.pc) state.pc.close();
  state.pc = null; state.channel = null; state.session = null;
  if (state.stream) state.stream.getTracks().forEach((t) => t.stop());
  state.stream = null;
  $("camera").srcObject = null; $("painted").srcObject = null;
  setState("idle");
  $("start").disabled = false; $("stop").disabled = true;
}

for (const id of ["style", "method", "size", "preserve"]) {
  $(id).addEventListener("change", () => {
    const c = controls();
    const key = { preserve: "preserve_colors" }[id] || id;
    sendControl({ [key]: c[key] });
  });
}
for (const [id, key] of SLIDERS) {
  // strength and steadiness follow the slider as it moves; a new face detail restarts the
  // stabilizer, so it is sent when the slider is let go
  $(id).addEventListener("input", () => {
    showSlider(id);
    if (key !== "face_detail") sendControl({ [key]: parseFloat($(id).value) });
  });
  $(id).addEventListener("change", () => sendControl({ [key]: parseFloat($(id).value) }));
}
$("start").addEventListener("click", start);
$("stop").addEventListener("click", stop);
window.addEventListener("pagehide", () => { sendControl({ type: "bye" }); if (state.pc) state.pc.close(); });
state.start = start; state.stop = stop; state.sendControl = sendControl;
countShownFrames($("painted"));
loadConfig().then(() => { state.ready = true; });
