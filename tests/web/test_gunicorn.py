"""The production way to serve: gunicorn with two workers on the test database."""
import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def gunicorn_url(app, database_url):
    gunicorn = os.path.join(os.path.dirname(sys.executable), "gunicorn")
    if not os.path.exists(gunicorn):
        pytest.skip("gunicorn not installed in this environment")
    port = free_port()
    env = dict(os.environ, DATABASE_URL=database_url, SECRET_KEY="gunicorn-test-secret-key-0123456789")
    proc = subprocess.Popen([gunicorn, "-w", "2", "-b", f"127.0.0.1:{port}", "app:create_app()"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(url + "/login/", timeout=1)
            break
        except Exception:
            if proc.poll() is not None:
                pytest.fail(proc.stdout.read().decode()[-2000:])
            time.sleep(0.1)
    yield url
    proc.terminate()
    proc.wait(timeout=10)


def test_gunicorn_serves_chinese_login_and_client_list(gunicorn_url, make_user, make_client):
    from ..conftest import PASSWORD

    user = make_user("Admin")
    make_client(name="生产环境测试有限公司")
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(gunicorn_url + "/login/").read().decode()
    assert "登录" in page
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or \
        re.search(r'value="([^"]+)"[^>]*name="csrf_token"', page)
    data = urllib.parse.urlencode({"username": user.username, "password": PASSWORD,
                                   "csrf_token": token.group(1)}).encode()
    opener.open(gunicorn_url + "/login/", data=data)
    # the session cookie is valid on whichever worker answers next
    for _ in range(4):
        html = opener.open(gunicorn_url + "/clients/list/").read().decode()
        assert "生产环境测试有限公司" in html
