// A stand-in for Clerk's hosted clerk-js (clerk.browser.js), for Yoom's browser tests.
//
// @clerk/clerk-react loads this file from its `clerkJSUrl` (CLERK_JS_URL) exactly as it loads the real
// one: a <script data-clerk-publishable-key=…> it waits on until `window.Clerk` has a `load` function.
// It implements the part of the Clerk object that clerk-react 5 calls (read from its isomorphicClerk and
// uiComponents): load(options), loaded, status, on/off("status"), addListener, session/user/client,
// mountSignIn/unmountSignIn, mountSignUp/unmountSignUp, mountUserButton/unmountUserButton,
// __unstable__updateProps, signOut, setActive, navigate, __internal_getOption.
//
// It drives the same code paths of Yoom's bridge as clerk-js does:
// * setActive() (after a sign-in or sign-up, and signOut()) keeps clerk-js 5's order: the session's token
//   first, then `window.__unstable__onBeforeSetActive(intent)` ("sign-out" when there is no session),
//   then navigation to the redirect URL through the `routerPush` option, and only then are the new session
//   and user set and the listeners told (unless the page is unloading);
// * session.getToken() asks the Frontend API (the fake's POST /v1/client/sessions/{sid}/tokens) for a
//   session token (RS256, signed by the fake's key) and caches it until shortly before it expires;
// * every 5 s (clerk-js's poller) the session is checked; one that has ended elsewhere signs this page out
//   (listeners told, session null), as clerk-js does when its token refresh is refused.
// The signed-in session id is kept in localStorage (clerk-js keeps its client in a cookie instead).
(function () {
  "use strict";
  const script = document.currentScript;
  const FAPI = new URL(script.src).origin + "/v1/client";
  const STORAGE_KEY = "yoom-fake-clerk:session";
  const POLL_MS = 5000;

  async function call(method, path, body) {
    const response = await fetch(FAPI + path, {
      method,
      headers: body ? { "Content-Type": "application/json" } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    let data = null;
    try {
      data = await response.json();
    } catch {
      data = null;
    }
    if (!response.ok) {
      const message = data?.errors?.[0]?.message || `HTTP ${response.status}`;
      const error = new Error(message);
      error.status = response.status;
      throw error;
    }
    return data;
  }

  function makeUser(raw) {
    const primary = (raw.email_addresses || []).find((e) => e.id === raw.primary_email_address_id);
    return {
      id: raw.id,
      username: raw.username,
      firstName: raw.first_name,
      lastName: raw.last_name,
      fullName: [raw.first_name, raw.last_name].filter(Boolean).join(" ") || null,
      imageUrl: raw.image_url,
      hasImage: !!raw.has_image,
      primaryEmailAddress: primary ? { id: primary.id, emailAddress: primary.email_address } : null,
      organizationMemberships: [],
    };
  }

  class FakeClerk {
    constructor(publishableKey) {
      this.publishableKey = publishableKey;
      this.version = "5.0.0-yoom-stand-in";
      this.sdkMetadata = { name: "yoom-clerk-stand-in", version: this.version };
      this.instanceType = "development";
      this.frontendApi = new URL(FAPI).host;
      this.isStandardBrowser = true;
      this.loaded = false;
      this.status = "loading";
      this.client = undefined;
      this.session = undefined;
      this.user = undefined;
      this.organization = undefined;
      this.telemetry = undefined;
      this.options = {};
      this._listeners = [];
      this._statusListeners = new Set();
      this._mounted = new Map();
      this._unloading = false;
      window.addEventListener("beforeunload", () => {
        this._unloading = true;
      });
    }

    get isSignedIn() {
      return !!this.session;
    }

    __internal_getOption(key) {
      return this.options[key];
    }

    // ---- lifecycle and events ----------------------------------------------------------------
    async load(options) {
      this.options = options || {};
      let session = null;
      const sid = window.localStorage.getItem(STORAGE_KEY);
      if (sid) {
        try {
          const answer = await call("GET", `/sessions/${sid}`);
          if (answer.session.status === "active") session = this._makeSession(answer);
        } catch {
          session = null;
        }
        if (!session) window.localStorage.removeItem(STORAGE_KEY);
      }
      this.client = this._makeClient(session);
      this.session = session;
      this.user = session ? session.user : null;
      this.organization = null;
      this.loaded = true;
      this._setStatus("ready");
      this._emit();
      this._poller = setInterval(() => this._poll(), POLL_MS);
    }

    _setStatus(status) {
      this.status = status;
      this._statusListeners.forEach((handler) => handler(status));
    }

    on(event, handler, opts) {
      if (event !== "status") return;
      this._statusListeners.add(handler);
      if (opts?.notify) handler(this.status);
    }

    off(event, handler) {
      if (event === "status") this._statusListeners.delete(handler);
    }

    addListener(listener) {
      this._listeners.push(listener);
      if (this.client) listener(this._state());
      return () => {
        this._listeners = this._listeners.filter((l) => l !== listener);
      };
    }

    _state() {
      return { client: this.client, session: this.session, user: this.user, organization: this.organization };
    }

    _emit() {
      const state = this._state();
      this._listeners.forEach((listener) => listener(state));
    }

    async _poll() {
      if (!this.session) return;
      try {
        const answer = await call("GET", `/sessions/${this.session.id}`);
        if (answer.session.status !== "active") await this._signedOutElsewhere();
      } catch (err) {
        if (err.status === 404) await this._signedOutElsewhere();
      }
    }

    async _signedOutElsewhere() {
      window.localStorage.removeItem(STORAGE_KEY);
      this.client = this._makeClient(null);
      await this.setActive({ session: null });
    }

    // ---- resources ---------------------------------------------------------------------------
    _makeClient(session) {
      const sessions = session ? [session] : [];
      return {
        id: "client_yoom_stand_in",
        sessions,
        signedInSessions: sessions,
        activeSessions: sessions,
        lastActiveSessionId: session ? session.id : null,
        signIn: {},
        signUp: {},
        isEligibleForTouch: () => false,
      };
    }

    _makeSession(answer) {
      const clerk = this;
      let cached = null;
      const remember = (jwt) => {
        const claims = JSON.parse(atob(jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
        cached = { raw: jwt, exp: claims.exp };
        session.lastActiveToken = { jwt: { claims }, getRawString: () => jwt };
      };
      const session = {
        id: answer.session.id,
        object: "session",
        status: "active",
        user: makeUser(answer.user),
        actor: null,
        factorVerificationAge: null,
        lastActiveToken: null,
        lastActiveOrganizationId: null,
        async getToken() {
          const now = Date.now() / 1000;
          if (cached && cached.exp - now > 10) return cached.raw;
          try {
            const { jwt } = await call("POST", `/sessions/${session.id}/tokens`);
            remember(jwt);
            return jwt;
          } catch (err) {
            if (err.status === 401 || err.status === 404) {
              await clerk._signedOutElsewhere();
              return null;
            }
            throw err;
          }
        },
      };
      // Like clerk-js's session resource: its latest token (and so its claims) comes with it.
      if (answer.session.last_active_token) remember(answer.session.last_active_token.jwt);
      return session;
    }

    // ---- setActive / navigate / signOut, in clerk-js 5's order -------------------------------
    async setActive({ session, redirectUrl }) {
      let target = session === undefined ? this.session : session;
      if (typeof target === "string") target = this.client.sessions.find((s) => s.id === target) || null;
      if (target) await target.getToken();
      const before = window.__unstable__onBeforeSetActive;
      if (typeof before === "function") await before(target === null ? "sign-out" : undefined);
      if (redirectUrl) {
        await this.navigate(redirectUrl);
        if (this._unloading) return;
      }
      this.session = target || null;
      this.user = target ? target.user : null;
      this._emit();
      const after = window.__unstable__onAfterSetActive;
      if (typeof after === "function") await after();
    }

    async navigate(to) {
      if (!to) return;
      const url = new URL(to, window.location.href);
      const push = this.options.routerPush;
      if (url.origin !== window.location.origin || !push) {
        window.location.href = url.href;
        return;
      }
      await push(url.pathname + url.search + url.hash, { windowNavigate: (u) => (window.location.href = u) });
    }

    async signOut(optionsOrCallback, maybeOptions) {
      const opts = typeof optionsOrCallback === "function" ? maybeOptions || {} : optionsOrCallback || {};
      const redirectUrl = opts.redirectUrl || this.options.afterSignOutUrl || "/";
      if (this.session) {
        try {
          await call("POST", `/sessions/${this.session.id}/end`);
        } catch {
          // Ended already: signing out locally is all that is left.
        }
      }
      window.localStorage.removeItem(STORAGE_KEY);
      this.client = this._makeClient(null);
      await this.setActive({ session: null, redirectUrl });
    }

    async _startSession(kind, identifier, props, error) {
      error.textContent = "";
      let answer;
      try {
        answer = await call("POST", kind === "sign-in" ? "/sign_ins" : "/sign_ups", { identifier });
      } catch (err) {
        error.textContent = err.message;
        return;
      }
      window.localStorage.setItem(STORAGE_KEY, answer.session.id);
      const session = this._makeSession(answer);
      this.client = this._makeClient(session);
      const o = this.options;
      const redirectUrl =
        kind === "sign-in"
          ? props.forceRedirectUrl || o.signInForceRedirectUrl || props.fallbackRedirectUrl || o.signInFallbackRedirectUrl || "/"
          : props.forceRedirectUrl || o.signUpForceRedirectUrl || props.fallbackRedirectUrl || o.signUpFallbackRedirectUrl || "/";
      await this.setActive({ session, redirectUrl });
    }

    // ---- components --------------------------------------------------------------------------
    _mountForm(node, props, kind) {
      const form = document.createElement("form");
      form.className = "cl-stand-in cl-" + kind;
      form.setAttribute("aria-label", kind === "sign-in" ? "Sign in with Clerk" : "Sign up with Clerk");
      const label = document.createElement("label");
      label.textContent = kind === "sign-in" ? "Email address or username" : "Username";
      const input = document.createElement("input");
      input.name = "identifier";
      input.autocomplete = "username";
      label.appendChild(input);
      const button = document.createElement("button");
      button.type = "submit";
      button.textContent = "Continue";
      const error = document.createElement("p");
      error.setAttribute("role", "alert");
      const other = document.createElement("a");
      const otherUrl = kind === "sign-in" ? props.signUpUrl || this.options.signUpUrl : props.signInUrl || this.options.signInUrl;
      other.textContent = kind === "sign-in" ? "Sign up" : "Sign in";
      other.href = otherUrl || "#";
      other.addEventListener("click", (event) => {
        event.preventDefault();
        this.navigate(otherUrl);
      });
      form.append(label, button, error, other);
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        this._startSession(kind, input.value.trim(), props, error);
      });
      node.replaceChildren(form);
      this._mounted.set(node, kind);
    }

    _unmount(node) {
      node.replaceChildren();
      this._mounted.delete(node);
    }

    mountSignIn(node, props) {
      this._mountForm(node, props || {}, "sign-in");
    }

    unmountSignIn(node) {
      this._unmount(node);
    }

    mountSignUp(node, props) {
      this._mountForm(node, props || {}, "sign-up");
    }

    unmountSignUp(node) {
      this._unmount(node);
    }

    mountUserButton(node, props) {
      const wrap = document.createElement("div");
      wrap.className = "cl-stand-in cl-userButton";
      const trigger = document.createElement("button");
      trigger.type = "button";
      trigger.setAttribute("aria-label", "Open user button");
      trigger.textContent = (this.user?.username || "?").slice(0, 1).toUpperCase();
      const menu = document.createElement("div");
      menu.setAttribute("role", "menu");
      menu.hidden = true;
      const signOut = document.createElement("button");
      signOut.type = "button";
      signOut.setAttribute("role", "menuitem");
      signOut.textContent = "Sign out";
      signOut.addEventListener("click", () => this.signOut({ redirectUrl: props?.afterSignOutUrl }));
      menu.appendChild(signOut);
      trigger.addEventListener("click", () => {
        menu.hidden = !menu.hidden;
      });
      wrap.append(trigger, menu);
      node.replaceChildren(wrap);
      this._mounted.set(node, "user-button");
    }

    unmountUserButton(node) {
      this._unmount(node);
    }

    __unstable__updateProps() {}
  }

  window.Clerk = new FakeClerk(script.getAttribute("data-clerk-publishable-key"));
})();
