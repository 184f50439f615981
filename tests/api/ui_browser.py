#!/usr/bin/env python3
"""Drives the status page in headless Chromium over the DevTools protocol
(--remote-debugging-pipe: JSON messages ending in NUL on fds 3 and 4, so
only the standard library is needed), and checks what it does over REST.

ui_browser.py CHROMIUM URL TOKEN NAME GOOD_FILTER BAD_FILTER PROFILE_DIR PNG
Exits 0 with "PASS" or 1 with "FAIL: why"."""
import base64
import json
import os
import subprocess
import sys
import time
import urllib.request

chromium, url, token, name, good, bad, profile, png = sys.argv[1:9]


def fail(msg):
    print("FAIL: " + msg, flush=True)
    sys.exit(1)


class Browser:
    def __init__(self):
        to_r, to_w = os.pipe()  # our commands -> fd 3 of the browser
        from_r, from_w = os.pipe()  # fd 4 of the browser -> us

        def fds():  # out of the way first: the pipes may be 3 or 4 themselves
            a, b = os.dup(to_r), os.dup(from_w)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self.proc = subprocess.Popen(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--no-first-run", "--no-default-browser-check",
             "--disable-dev-shm-usage", "--remote-debugging-pipe",
             "--user-data-dir=" + profile, "--window-size=1280,1000", "about:blank"],
            pass_fds=(3, 4), preexec_fn=fds,
            stdout=subprocess.DEVNULL, stderr=open(profile + ".log", "wb"))
        os.close(to_r)
        os.close(from_w)
        self.w, self.r = to_w, from_r
        self.buf = b""
        self.next_id = 0
        self.session = None

    def send(self, method, params=None, session=True):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session and self.session:
            msg["sessionId"] = self.session
        os.write(self.w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            while b"\0" in self.buf:
                raw, self.buf = self.buf.split(b"\0", 1)
                m = json.loads(raw)
                if m.get("id") == self.next_id:
                    if "error" in m:
                        fail("%s: %s" % (method, m["error"]))
                    return m.get("result", {})
            chunk = os.read(self.r, 1 << 20)
            if not chunk:
                fail("the browser went away during " + method)
            self.buf += chunk
        fail("no answer to " + method)

    def js(self, expr):
        r = self.send("Runtime.evaluate", {"expression": expr, "returnByValue": True,
                                           "awaitPromise": True})
        if "exceptionDetails" in r:
            fail("script error in %r: %s" % (expr, r["exceptionDetails"]))
        return r["result"].get("value")

    def wait(self, expr, what, secs=20):
        deadline = time.monotonic() + secs
        while time.monotonic() < deadline:
            v = self.js(expr)
            if v:
                return v
            time.sleep(0.2)
        fail("waited %d s for %s" % (secs, what))

    def type_into(self, selector, text):
        """Focuses the field, selects what is there and types text over it."""
        self.js("(() => { const e = document.querySelector(%s); e.focus(); e.select(); })()"
                % json.dumps(selector))
        self.send("Input.insertText", {"text": text})

    def close(self):
        try:
            self.send("Browser.close", session=False)
        except SystemExit:
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def rest_filter():
    req = urllib.request.Request(url + "api/v1/captures/%s/filter" % name,
                                 headers={"Authorization": "Bearer " + token})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.load(r)


b = Browser()
try:
    target = b.send("Target.createTarget", {"url": "about:blank"}, session=False)
    b.session = b.send("Target.attachToTarget", {"targetId": target["targetId"],
                                                 "flatten": True}, session=False)["sessionId"]
    b.send("Page.enable")
    b.send("Emulation.setDeviceMetricsOverride", {"width": 1280, "height": 640,
                                                  "deviceScaleFactor": 1, "mobile": False})
    b.send("Page.navigate", {"url": url})
    # no token yet: the page asks for one
    b.wait("document.readyState === 'complete' && "
           "!document.getElementById('login').classList.contains('hidden')", "the token form")
    if b.js("document.querySelectorAll('section[data-name]').length") != 0:
        fail("captures shown before a token was given")
    # a wrong token is refused, on the page
    b.type_into("#token", "not-the-token")
    b.js("document.getElementById('token-go').click()")
    b.wait("document.getElementById('login-msg').textContent.includes('refused')",
           "the refusal of a wrong token")
    # the right one: the captures appear
    b.type_into("#token", token)
    b.js("document.getElementById('token-go').click()")
    card = "section[data-name=%s]" % json.dumps(name)
    b.wait("document.body.dataset.ready === '1' && !!document.querySelector(%s)" % json.dumps(card),
           "the capture " + name)
    if b.js("sessionStorage.getItem('ca-token')") != token:
        fail("the token is not kept in sessionStorage")
    # change the filter through the form
    b.type_into(card + " .filter-input", good)
    b.js("document.querySelector(%s).click()" % json.dumps(card + " .filter-apply"))
    msg = b.wait("(() => { const m = document.querySelector(%s); "
                 "return m.textContent.startsWith('filter set') && m.textContent; })()"
                 % json.dumps(card + " .filter-msg"), "the filter to be set")
    got = rest_filter()
    if got != good:
        fail("after the form, REST says the filter is %r, want %r (page: %r)" % (got, good, msg))
    b.wait("document.querySelector(%s).textContent === %s"
           % (json.dumps(card + " td.num"), json.dumps(good)), "the page to show the new filter")
    # a refused filter: libpcap's message on the page, nothing changed
    b.type_into(card + " .filter-input", bad)
    b.js("document.querySelector(%s).click()" % json.dumps(card + " .filter-apply"))
    err = b.wait("(() => { const m = document.querySelector(%s); "
                 "return m.classList.contains('err') && m.textContent; })()"
                 % json.dumps(card + " .filter-msg"), "the refusal of " + bad)
    if "syntax error" not in err:
        fail("the page shows %r, not libpcap's message" % err)
    if rest_filter() != good:
        fail("a refused filter changed the capture's filter")
    print("page error message: " + err, flush=True)
    # let the chart fill a little (traffic flows meanwhile), then a picture
    b.wait("document.querySelectorAll(%s).length === 3" % json.dumps(card + " svg polyline"),
           "the chart", 30)
    time.sleep(16)
    shot = b.send("Page.captureScreenshot", {"format": "png"})
    data = base64.b64decode(shot["data"])
    if not data.startswith(b"\x89PNG"):
        fail("the screenshot is not a PNG")
    with open(png, "wb") as f:
        f.write(data)
finally:
    b.close()
print("PASS", flush=True)
