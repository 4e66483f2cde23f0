# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# nginx.sh - a private WebDAV server for the offsite store's tests, sourced
# after cluster.sh: nginx from Debian's package (its dav module: PUT,
# DELETE, MKCOL), as root, on a free port, everything in one temporary
# directory $NG, stopped at the end of the test.
#
#   $NG/data/dav/   under $DAV = http://127.0.0.1:$NG_PORT/dav, HTTP basic
#                   authentication: user "ckpt", password $DAV_PASS
#   $NG/data/s3/    under http://127.0.0.1:$NG_PORT/s3, PUT creating the
#                   directories (as S3 keys need none); a request is served
#                   only if its AWS SigV4 signature is right for access key
#                   $S3_ACCESS, secret $S3_SECRET and region $S3_REGION,
#                   checked by sigv4-check.py (botocore's signer) through
#                   auth_request, which logs each verdict in $NG/sigv4.log;
#                   $NG/s3.log logs each request's Authorization header
#   $NG/access.log  "<method> <uri> <status> user=<user>" per request
#
# nginx_start: after cluster_start (it replaces cluster_stop's EXIT trap
# with one that stops nginx too).  A test without nginx skips
# before sourcing this.

DAV_PASS='dav pw#1:x'
S3_ACCESS=AKCKPTTEST
S3_SECRET='sekrit/key+1'
S3_REGION=test-1
NG=
NG_PID=
SV_PID=

_stop_nginx() {
	[ -n "$NG_PID" ] && _kill_pid "$NG_PID" nginx
	[ -n "$SV_PID" ] && _kill_pid "$SV_PID" sigv4-check
	NG_PID=
	SV_PID=
	[ -n "$NG" ] && [ "${KEEP_CLUSTER:-0}" != 1 ] && rm -rf "$NG"
}

_nginx_conf() {
	cat <<EOF
daemon off;
user nobody nogroup;
worker_processes 1;
pid $NG/nginx.pid;
error_log $NG/error.log info;
events { worker_connections 64; }
http {
	log_format dav '\$request_method \$uri \$status user=\$remote_user';
	log_format s3 '\$request_method \$uri \$status auth="\$http_authorization" sha="\$http_x_amz_content_sha256"';
	access_log $NG/access.log dav;
	client_body_temp_path $NG/tmp/body;
	proxy_temp_path $NG/tmp/proxy;
	fastcgi_temp_path $NG/tmp/fastcgi;
	uwsgi_temp_path $NG/tmp/uwsgi;
	scgi_temp_path $NG/tmp/scgi;
	client_max_body_size 0;
	server {
		listen 127.0.0.1:$NG_PORT;
		root $NG/data;
		location /dav/ {
			dav_methods PUT DELETE MKCOL;
			dav_access user:rw group:r all:r;
			auth_basic "checkpoints";
			auth_basic_user_file $NG/htpasswd;
		}
		location /s3/ {
			auth_request /sigv4-check;
			dav_methods PUT DELETE;
			create_full_put_path on;
			dav_access user:rw group:r all:r;
			access_log $NG/s3.log s3;
		}
		location = /sigv4-check {
			internal;
			proxy_pass http://127.0.0.1:$SV_PORT;
			proxy_pass_request_body off;
			proxy_set_header Content-Length "";
			proxy_set_header Host \$http_host;
			proxy_set_header X-Original-Method \$request_method;
			proxy_set_header X-Original-URI \$request_uri;
		}
	}
}
EOF
}

_nginx_up() {
	curl -s -o /dev/null "http://127.0.0.1:$NG_PORT/"
}

_sigv4_up() {
	curl -s -o /dev/null "http://127.0.0.1:$SV_PORT/"
}

nginx_start() {
	NG=$(mktemp -d /tmp/ckpt-nginx.XXXXXX) || fail "mktemp"
	# cluster_stop reports the test's status: keep it across _stop_nginx.
	trap '_rc=$?; _stop_nginx; (exit $_rc); cluster_stop' EXIT
	chmod 0755 "$NG"	# the workers (nobody) reach data/
	NG_PORT=$(free_port) || fail "no free port"
	SV_PORT=$(free_port) || fail "no free port"
	/usr/bin/python3 -c 'import botocore.auth' 2>/dev/null ||
		fail "python3-botocore is not installed (contrib/install-deps.sh)"
	/usr/bin/python3 "${top_srcdir:-${0%/*}/../..}/tests/integration/sigv4-check.py" \
		"$SV_PORT" "$S3_ACCESS" "$S3_SECRET" "$S3_REGION" "$NG/sigv4.log" \
		</dev/null >>"$NG/sigv4.out" 2>&1 &
	SV_PID=$!
	wait_for 10 _sigv4_up || fail "sigv4-check.py did not answer on port $SV_PORT: $(cat "$NG/sigv4.out")"
	: >"$NG/sigv4.log"
	mkdir -p "$NG/data/dav" "$NG/data/s3" "$NG/tmp"
	chown -R nobody:nogroup "$NG/data" "$NG/tmp"
	printf 'ckpt:%s\n' "$(openssl passwd -apr1 "$DAV_PASS")" >"$NG/htpasswd"
	chmod 644 "$NG/htpasswd"
	_nginx_conf >"$NG/nginx.conf"
	nginx -t -p "$NG" -c "$NG/nginx.conf" >"$NG/nginx-t.log" 2>&1 ||
		fail "nginx -t: $(cat "$NG/nginx-t.log")"
	nginx -p "$NG" -c "$NG/nginx.conf" </dev/null >>"$NG/nginx.out" 2>&1 &
	NG_PID=$!
	wait_for 10 _nginx_up || fail "nginx did not answer on port $NG_PORT: $(cat "$NG/error.log")"
	DAV=http://127.0.0.1:$NG_PORT/dav
}

# offsite_remote_has <remote image dir> <seq>: index.json there lists seq.
offsite_remote_has() {
	[ -f "$1/index.json" ] &&
		jq -e --argjson s "$2" '.seqs | index($s)' "$1/index.json" >/dev/null 2>&1
}
