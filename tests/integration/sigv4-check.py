#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""sigv4-check.py - the signature check of the S3 store in nginx.sh.

nginx asks this server (auth_request) about every request to its /s3/
location, with the request's headers and X-Original-Method and
X-Original-URI.  The signature in its Authorization header is computed
again with botocore's S3SigV4Auth (AWS's own signer, from Debian's
python3-botocore) over the headers the request says it signed, with the
time it says it was signed at, and the one access key and secret the
test configures.  The answer is 200 when they match and 403 otherwise;
each verdict is one line in the log file:

    ok <method> <uri>
    refused <method> <uri>: <why>

usage: sigv4-check.py <port> <access key> <secret key> <region> <log>
"""
import hmac
import re
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

PORT, ACCESS, SECRET, REGION, LOG = sys.argv[1:6]
AUTH = re.compile(r'AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/s3/aws4_request, '
                  r'SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$')


def verdict(headers):
    """None when the request is signed with our key, else why not."""
    m = AUTH.match(headers.get('Authorization', ''))
    if not m:
        return 'no SigV4 Authorization header'
    key, day, region, signed, sig = m.groups()
    if key != ACCESS:
        return 'unknown access key ' + key
    if region != REGION:
        return 'region ' + region
    date = headers.get('X-Amz-Date', '')
    if not date.startswith(day):
        return 'X-Amz-Date %r is not of the credential\'s day' % date
    names = signed.split(';')
    for need in ('host', 'x-amz-content-sha256', 'x-amz-date'):
        if need not in names:
            return need + ' not signed'
    mine = {n: headers.get(n, '') for n in names}
    req = AWSRequest(method=headers.get('X-Original-Method', ''),
                     url='http://%s%s' % (headers.get('Host', ''),
                                          headers.get('X-Original-URI', '')),
                     headers=mine)
    req.context['timestamp'] = date
    auth = S3SigV4Auth(Credentials(ACCESS, SECRET), 's3', REGION)
    want = auth.signature(auth.string_to_sign(req, auth.canonical_request(req)), req)
    if not hmac.compare_digest(want, sig):
        return 'signature does not match'
    return None


class Check(BaseHTTPRequestHandler):
    def answer(self):
        why = verdict(self.headers)
        what = '%s %s' % (self.headers.get('X-Original-Method'),
                          self.headers.get('X-Original-URI'))
        with open(LOG, 'a') as log:
            log.write('ok %s\n' % what if why is None else 'refused %s: %s\n' % (what, why))
        self.send_response(200 if why is None else 403)
        self.send_header('Content-Length', '0')
        self.end_headers()

    do_GET = do_PUT = do_DELETE = do_HEAD = do_POST = answer

    def log_message(self, *args):
        pass


ThreadingHTTPServer(('127.0.0.1', int(PORT)), Check).serve_forever()
