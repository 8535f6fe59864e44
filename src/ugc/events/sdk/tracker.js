/*
 * ugc browser tracker: player events to the ugc events API, batched, retried and
 * kept across reloads. Plain JavaScript, no dependencies, no build step.
 *
 *   const tracker = ugc.tracker({ endpoint: "https://api.cinema.example", token: () => token });
 *   tracker.track("view_progress", { film_id, position_sec, duration_sec });
 *   await tracker.flush();
 *   const detach = tracker.attach(videoElement, { filmId, creditsSec });
 *
 * Every event gets a client event_id (crypto.randomUUID) and timestamp when it is
 * tracked, and a sent_at when its batch leaves, so the server stores a retried
 * event once and corrects the client's clock. Events wait in a bounded queue kept
 * in localStorage until the API has them: network errors, 408, 429 and 503 are
 * retried with exponential backoff and jitter (Retry-After first); any other 4xx
 * drops the batch and is reported through `onError`. When the page is hidden or
 * left, what is unsent goes by sendBeacon, the token in the body, or by a
 * keepalive fetch where a beacon cannot go.
 */
(() => {
  "use strict";

  const RETRYABLE = new Set([408, 429, 503]);
  const BEACON_BYTES = 60 * 1024; // browsers take about 64 KiB of beacons at a time
  const GZIP_FROM_BYTES = 1024;

  const DEFAULTS = {
    batchSize: 100,
    flushIntervalMs: 5000,
    maxQueue: 1000,
    progressIntervalMs: 30000,
    backoffMs: 1000,
    maxBackoffMs: 60000,
    storageKey: null,
    onError: () => {},
  };

  function tracker(options) {
    const o = { ...DEFAULTS, ...options };
    if (!o.endpoint) throw new TypeError("ugc.tracker needs an endpoint");
    const url = String(o.endpoint).replace(/\/+$/, "") + "/api/v1/events";
    const key = "ugc.tracker:" + (o.storageKey || url);
    const tokenOf = typeof o.token === "function" ? o.token : () => o.token;
    const storage = storageOrNull();
    const stats = { sent: 0, dropped: 0, refused: 0, retries: 0 };

    let queue = load(); // events not yet acknowledged, oldest first
    const sending = new Set(); // event_ids of the batch on its way
    let failures = 0;
    let retryAt = 0;
    let retryTimer = null;
    let running = null;

    function storageOrNull() {
      try {
        const s = globalThis.localStorage;
        s.setItem("ugc.tracker:probe", "1");
        s.removeItem("ugc.tracker:probe");
        return s;
      } catch {
        return null; // private mode, or no storage: the queue lives in memory only
      }
    }

    function load() {
      if (!storage) return [];
      try {
        const kept = JSON.parse(storage.getItem(key) || "[]");
        return Array.isArray(kept) ? kept.filter((e) => e && e.event_id && e.type) : [];
      } catch {
        return [];
      }
    }

    function save() {
      if (!storage) return;
      try {
        storage.setItem(key, JSON.stringify(queue));
      } catch {
        // Storage full: the events stay in memory for this page.
      }
    }

    function track(type, properties = {}) {
      const event = { ...clean(properties), type, event_id: crypto.randomUUID() };
      event.timestamp = new Date().toISOString();
      queue.push(event);
      if (queue.length > o.maxQueue) {
        const over = queue.length - o.maxQueue;
        queue.splice(0, over); // the oldest go first
        stats.dropped += over;
      }
      save();
      if (unsent().length >= o.batchSize) flush();
      return event.event_id;
    }

    function clean(properties) {
      const out = {};
      for (const [name, value] of Object.entries(properties)) {
        if (value !== undefined && value !== null) out[name] = value;
      }
      return out;
    }

    function unsent() {
      return queue.filter((e) => !sending.has(e.event_id));
    }

    function forget(events) {
      const gone = new Set(events.map((e) => e.event_id));
      queue = queue.filter((e) => !gone.has(e.event_id));
      save();
    }

    /** Send everything queued; resolves when it is in, or waiting to be retried. */
    function flush() {
      if (!running) {
        running = drain().finally(() => {
          running = null;
        });
      }
      return running;
    }

    async function drain() {
      while (Date.now() >= retryAt) {
        const batch = unsent().slice(0, o.batchSize);
        if (batch.length === 0) return;
        batch.forEach((e) => sending.add(e.event_id));
        let outcome;
        try {
          outcome = await post(batch);
        } finally {
          batch.forEach((e) => sending.delete(e.event_id));
        }
        if (outcome.retry) {
          scheduleRetry(outcome.afterMs);
          return;
        }
        failures = 0;
        forget(batch);
        if (outcome.ok) stats.sent += batch.length;
        else {
          stats.refused += batch.length;
          report(outcome);
        }
      }
    }

    async function post(batch) {
      const body = JSON.stringify({ events: stamped(batch) });
      const headers = { "Content-Type": "application/json" };
      const token = tokenOf();
      if (token) headers.Authorization = "Bearer " + token;
      let response;
      try {
        const payload = await maybeGzip(body, headers);
        response = await fetch(url, { method: "POST", headers, body: payload, credentials: "omit" });
      } catch (error) {
        return { retry: true, afterMs: null, error };
      }
      return outcomeOf(response, batch);
    }

    async function outcomeOf(response, batch) {
      if (RETRYABLE.has(response.status)) {
        return { retry: true, afterMs: retryAfterMs(response) };
      }
      let problem = null;
      try {
        problem = response.status === 204 ? null : await response.json();
      } catch {
        problem = null;
      }
      if (response.ok) {
        if (problem && problem.rejected > 0) {
          report({ status: response.status, problem, events: batch });
        }
        return { ok: true };
      }
      return { ok: false, status: response.status, problem, events: batch };
    }

    function retryAfterMs(response) {
      const value = response.headers.get("Retry-After");
      if (!value) return null;
      const seconds = Number(value);
      if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
      const when = Date.parse(value);
      return Number.isFinite(when) ? Math.max(0, when - Date.now()) : null;
    }

    function scheduleRetry(afterMs) {
      failures += 1;
      stats.retries += 1;
      const backoff = Math.min(o.maxBackoffMs, o.backoffMs * 2 ** (failures - 1));
      const jittered = backoff * (0.5 + Math.random());
      const delay = afterMs === null ? jittered : afterMs + Math.random() * o.backoffMs;
      retryAt = Date.now() + delay;
      clearTimeout(retryTimer);
      retryTimer = setTimeout(() => {
        retryAt = 0;
        flush();
      }, delay);
    }

    function report(outcome) {
      try {
        o.onError(outcome);
      } catch {
        // A failing handler must not stop the tracker.
      }
    }

    function stamped(events) {
      const sentAt = new Date().toISOString();
      return events.map((e) => ({ ...e, sent_at: sentAt }));
    }

    async function maybeGzip(body, headers) {
      if (typeof CompressionStream !== "function" || body.length < GZIP_FROM_BYTES) return body;
      const zipped = new Blob([body]).stream().pipeThrough(new CompressionStream("gzip"));
      headers["Content-Encoding"] = "gzip";
      return await new Response(zipped).arrayBuffer();
    }

    /** The page is going away or out of sight: hand what is unsent to the browser. */
    function flushOnExit() {
      const left = unsent();
      for (const chunk of chunks(left)) {
        const token = tokenOf();
        const events = stamped(chunk);
        const beacon = JSON.stringify(token ? { access_token: token, events } : { events });
        if (navigator.sendBeacon && navigator.sendBeacon(url, beacon)) {
          forget(chunk); // the browser delivers it now
          stats.sent += chunk.length;
          continue;
        }
        const headers = { "Content-Type": "application/json" };
        if (token) headers.Authorization = "Bearer " + token;
        chunk.forEach((e) => sending.add(e.event_id));
        fetch(url, {
          method: "POST",
          headers,
          body: JSON.stringify({ events }),
          keepalive: true,
          credentials: "omit",
        })
          .then((response) => outcomeOf(response, chunk))
          .then((outcome) => {
            if (!outcome.retry) {
              forget(chunk);
              if (outcome.ok) stats.sent += chunk.length;
              else report(outcome);
            }
          })
          .catch(() => {}) // kept in storage: sent again on the next page
          .finally(() => chunk.forEach((e) => sending.delete(e.event_id)));
      }
    }

    function chunks(events) {
      const out = [];
      let chunk = [];
      let size = 200; // the envelope and the token
      for (const event of events) {
        const bytes = JSON.stringify(event).length + 40;
        if (chunk.length && (size + bytes > BEACON_BYTES || chunk.length >= o.batchSize)) {
          out.push(chunk);
          chunk = [];
          size = 200;
        }
        chunk.push(event);
        size += bytes;
      }
      if (chunk.length) out.push(chunk);
      return out;
    }

    /** Track an HTML5 <video>: play, pause, seek, end, quality changes the page
     * reports (a `ugc:qualitychange` event with `detail: {from, to}` on the
     * element), and view_progress while it plays. `creditsSec`, where the end
     * credits start (from the catalogue), goes with every event: reaching it
     * completes the viewing. Returns a function that stops. */
    function attach(
      video,
      { filmId, creditsSec, progressIntervalMs = o.progressIntervalMs } = {},
    ) {
      if (!filmId) throw new TypeError("attach needs { filmId }");
      if (creditsSec !== undefined && !(Number.isFinite(creditsSec) && creditsSec > 0)) {
        throw new TypeError("attach's creditsSec must be a positive number of seconds");
      }
      const credits = creditsSec === undefined ? {} : { credits_sec: creditsSec };
      let last = video.currentTime;
      let seekFrom = null;
      let beat = null;
      const duration = () =>
        Number.isFinite(video.duration) && video.duration > 0 ? video.duration : undefined;
      const here = () => ({
        film_id: filmId,
        position_sec: video.currentTime,
        duration_sec: duration(),
        ...credits,
      });
      const startBeat = () => {
        stopBeat();
        beat = setInterval(() => track("view_progress", here()), progressIntervalMs);
      };
      const stopBeat = () => {
        clearInterval(beat);
        beat = null;
      };
      const handlers = {
        play: () => {
          track("play", here());
          startBeat();
        },
        pause: () => {
          stopBeat();
          if (!video.ended) track("pause", here());
        },
        seeking: () => {
          if (seekFrom === null) seekFrom = last;
        },
        seeked: () => {
          track("seek", {
            film_id: filmId,
            from_sec: seekFrom ?? last,
            to_sec: video.currentTime,
            duration_sec: duration(),
            ...credits,
          });
          seekFrom = null;
          last = video.currentTime;
        },
        timeupdate: () => {
          if (!video.seeking) last = video.currentTime;
        },
        ended: () => {
          stopBeat();
          track("end", here());
        },
        "ugc:qualitychange": (event) => {
          const { from, to } = event.detail || {};
          if (from && to) track("quality_change", { ...here(), from_quality: from, to_quality: to });
        },
      };
      for (const [name, handler] of Object.entries(handlers)) video.addEventListener(name, handler);
      if (!video.paused) startBeat();
      return () => {
        stopBeat();
        for (const [name, handler] of Object.entries(handlers)) {
          video.removeEventListener(name, handler);
        }
      };
    }

    const onHidden = () => {
      if (document.visibilityState === "hidden") flushOnExit();
    };
    addEventListener("pagehide", flushOnExit);
    document.addEventListener("visibilitychange", onHidden);
    const ticker = setInterval(() => {
      if (unsent().length) flush();
    }, o.flushIntervalMs);
    if (queue.length) setTimeout(flush, 0); // what an earlier page left unsent

    return {
      track,
      flush,
      attach,
      stats: () => ({ ...stats, queued: queue.length }),
      stop() {
        clearInterval(ticker);
        clearTimeout(retryTimer);
        removeEventListener("pagehide", flushOnExit);
        document.removeEventListener("visibilitychange", onHidden);
      },
    };
  }

  globalThis.ugc = { ...(globalThis.ugc || {}), tracker };
})();
