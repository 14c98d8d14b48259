#!/usr/bin/python3
"""CardDAV checks with python3's own HTTP and XML (no CardDAV library is
packaged in Debian): discovery from /.well-known/carddav, vCard 3.0 and 4.0
negotiation (Accept and address-data), addressbook-query, addressbook-multiget
and sync-collection, a bad vCard refused, and the company address book
read-only for a plain user. One `PASS|FAIL <name>: <detail>` line per check,
then `N passed, N failed`; exit status 1 when something failed.

usage: python_carddav_check.py <server-url> <user> <password>
"""
import base64
import sys
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET

BASE, USER, PASSWORD = sys.argv[1].rstrip('/'), sys.argv[2], sys.argv[3]
NS = {'d': 'DAV:', 'card': 'urn:ietf:params:xml:ns:carddav', 'cs': 'http://calendarserver.org/ns/'}
XMLNS = 'xmlns:d="DAV:" xmlns:card="urn:ietf:params:xml:ns:carddav" xmlns:cs="http://calendarserver.org/ns/"'
AUTH = 'Basic ' + base64.b64encode(f'{USER}:{PASSWORD}'.encode()).decode()
results = []


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


opener = urllib.request.build_opener(NoRedirect)


def request(method, path, body=None, headers=None):
    h = {'Authorization': AUTH}
    h.update(headers or {})
    data = body.encode() if isinstance(body, str) else body
    if data is not None and 'Content-Type' not in h:
        h['Content-Type'] = 'application/xml; charset=utf-8'
    req = urllib.request.Request(BASE + path, data=data, method=method, headers=h)
    try:
        with opener.open(req) as res:
            return res.status, dict(res.headers), res.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode()


def check(name, ok, detail):
    results.append(ok)
    print(f"{'PASS' if ok else 'FAIL'} {name}: {detail}")


def responses(text):
    out = {}
    for r in ET.fromstring(text).findall('d:response', NS):
        href = r.find('d:href', NS).text
        status = r.find('d:status', NS)
        props = {}
        for ps in r.findall('d:propstat', NS):
            if ' 200 ' in ps.find('d:status', NS).text:
                for p in ps.find('d:prop', NS):
                    props[p.tag] = p
        out[href] = {'status': status.text if status is not None else None, 'props': props}
    return out


def propfind(path, depth, *props):
    body = f'<?xml version="1.0"?><d:propfind {XMLNS}><d:prop>' + ''.join(f'<{p}/>' for p in props) + '</d:prop></d:propfind>'
    return request('PROPFIND', path, body, {'Depth': depth})


def href_of(el):
    h = el.find('d:href', NS) if el is not None else None
    return h.text if h is not None else None


def vcard(uid, lines, version='3.0'):
    return '\r\n'.join(['BEGIN:VCARD', f'VERSION:{version}', f'UID:{uid}', *lines, 'END:VCARD', ''])


def put(path, body, headers=None):
    h = {'Content-Type': 'text/vcard; charset=utf-8'}
    h.update(headers or {})
    return request('PUT', path, body, h)


def sync(book, token, props='<d:getetag/>'):
    body = f'<?xml version="1.0"?><d:sync-collection {XMLNS}><d:sync-token>{token}</d:sync-token><d:sync-level>1</d:sync-level><d:prop>{props}</d:prop></d:sync-collection>'
    status, _, text = request('REPORT', book, body)
    root = ET.fromstring(text)
    return status, root.find('d:sync-token', NS).text, responses(text)


def query(book, filt):
    body = f'<?xml version="1.0"?><card:addressbook-query {XMLNS}><d:prop><d:getetag/></d:prop><card:filter{filt}</card:filter></card:addressbook-query>'
    status, _, text = request('REPORT', book, body)
    return status, sorted(h.rsplit('/', 1)[-1] for h in responses(text))


# discovery
status, headers, _ = propfind('/.well-known/carddav', '0', 'd:current-user-principal')
root = headers.get('Location') or headers.get('location')
status2, _, text = propfind(root or '/', '0', 'd:current-user-principal')
principal = href_of(responses(text).get(root or '/', {'props': {}})['props'].get('{DAV:}current-user-principal'))
_, _, text = propfind(principal or '/', '0', 'card:addressbook-home-set')
home = href_of(responses(text).get(principal, {'props': {}})['props'].get('{urn:ietf:params:xml:ns:carddav}addressbook-home-set'))
_, _, text = propfind(home or '/', '1', 'd:resourcetype', 'd:displayname', 'cs:getctag', 'card:supported-address-data')
books = {h: r for h, r in responses(text).items() if r['props'].get('{DAV:}resourcetype') is not None and r['props']['{DAV:}resourcetype'].find('card:addressbook', NS) is not None}
BOOK = next((h for h in books if h.endswith('/contacts/')), None)
COMPANY = next((h for h in books if 'company~' in h), None)
check('discovery', status == 301 and principal is not None and home is not None and BOOK is not None and COMPANY is not None,
      f'well-known {status} → {root}; principal {principal}; home {home}; books {sorted(books)}')
versions = sorted(e.get('version') for e in books.get(BOOK, {'props': {}})['props'].get('{urn:ietf:params:xml:ns:carddav}supported-address-data', []))
check('supported-address-data', versions == ['3.0', '4.0'], f'versions {versions}')
BOOK = BOOK or '/dav/addressbooks/x/contacts/'

# negotiation
v3 = vcard('py-three', ['N:Nowak;Anna;;;', 'FN:Anna Nowak', 'EMAIL;TYPE=work:anna@firm.example', 'TEL;TYPE=cell:+48 600 100 200', 'PHOTO;ENCODING=b;TYPE=JPEG:QUJD'])
status, headers, _ = put(BOOK + 'py-three.vcf', v3, {'If-None-Match': '*'})
etag3 = headers.get('ETag') or headers.get('etag')
check('put-v3', status == 201 and etag3 is not None, f'{status}, ETag {etag3}')
status, headers, body = request('GET', BOOK + 'py-three.vcf')
check('get-as-stored', status == 200 and body == v3, f'{status}, {len(body)} bytes, same as sent: {body == v3}')
status, headers, body = request('GET', BOOK + 'py-three.vcf', headers={'Accept': 'text/vcard; version=4.0'})
check('get-v4-by-accept', status == 200 and 'VERSION:4.0' in body and 'PHOTO:data:image/jpeg;base64,QUJD' in body and (headers.get('ETag') or headers.get('etag')) != etag3,
      f'{status}, {body.splitlines()[1] if body else ""}, own ETag')
v4 = vcard('py-four', ['FN:Ewa Zielińska', 'N:Zielińska;Ewa;;;', 'EMAIL;PREF=1:ewa@home.example', 'KIND:individual'], '4.0')
status, _, _ = put(BOOK + 'py-four.vcf', v4, {'If-None-Match': '*'})
body = f'<?xml version="1.0"?><card:addressbook-multiget {XMLNS}><d:prop><d:getetag/><card:address-data content-type="text/vcard" version="3.0"/></d:prop><d:href>{BOOK}py-four.vcf</d:href></card:addressbook-multiget>'
_, _, text = request('REPORT', BOOK, body)
data = responses(text).get(BOOK + 'py-four.vcf', {'props': {}})['props'].get('{urn:ietf:params:xml:ns:carddav}address-data')
data = data.text if data is not None else ''
check('multiget-v3-of-a-v4-card', status == 201 and 'VERSION:3.0' in data and 'EMAIL;TYPE=pref:ewa@home.example' in data, f'put {status}; {data!r}')

# addressbook-query
status, found = query(BOOK, '><card:prop-filter name="EMAIL"><card:text-match match-type="ends-with">FIRM.EXAMPLE</card:text-match></card:prop-filter>')
check('query-text-match', status == 207 and found == ['py-three.vcf'], f'{status} {found}')
status, found = query(BOOK, '><card:prop-filter name="FN"><card:text-match>zielińska</card:text-match></card:prop-filter>')
check('query-unicode-casemap', status == 207 and found == ['py-four.vcf'], f'{status} {found}')
status, found = query(BOOK, ' test="allof"><card:prop-filter name="EMAIL"/><card:prop-filter name="TEL"><card:is-not-defined/></card:prop-filter>')
check('query-is-not-defined', status == 207 and found == ['py-four.vcf'], f'{status} {found}')

# sync-collection
status, token, members = sync(BOOK, '')
check('sync-initial', status == 207 and {BOOK + 'py-three.vcf', BOOK + 'py-four.vcf'} <= set(members), f'{status}, {len(members)} members, token {token}')
put(BOOK + 'py-four.vcf', v4.replace('FN:Ewa Zielińska', 'FN:Ewa Z.'))
request('DELETE', BOOK + 'py-three.vcf')
status, token2, members = sync(BOOK, token)
changed = sorted((h.rsplit('/', 1)[-1], (m['status'] or '').split(' ')[1] if m['status'] else '200') for h, m in members.items())
check('sync-changes-only', status == 207 and changed == [('py-four.vcf', '200'), ('py-three.vcf', '404')], f'{changed}')
status, token3, members = sync(BOOK, token2)
check('sync-nothing-new', status == 207 and members == {} and token3 == token2, f'{len(members)} members, token {"kept" if token3 == token2 else "moved"}')

# refusals
before = len(sync(BOOK, '')[2])
status, _, text = put(BOOK + 'bad.vcf', 'BEGIN:VCARD\r\nVERSION:3.0\r\nthis is no vCard\r\nEND:VCARD\r\n')
after = len(sync(BOOK, '')[2])
check('bad-vcard-refused', status == 403 and 'valid-address-data' in text and before == after, f'{status}, nothing stored: {before == after}')
status, _, text = put((COMPANY or BOOK) + 'mine.vcf', vcard('mine', ['FN:Mine']))
check('company-read-only', status == 403 and 'need-privileges' in text, f'{status}')

passed = sum(1 for r in results if r)
print(f'{passed} passed, {len(results) - passed} failed')
sys.exit(0 if passed == len(results) else 1)
