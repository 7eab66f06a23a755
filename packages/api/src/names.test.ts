import { describe, expect, it } from 'vitest';
import { isDNS1035Label, isDNS1123Label, isDNS1123Subdomain, isQualifiedName, isValidLabelValue } from './names.js';

// Upstream's messages, spelled out once (note the double space upstream's RegexError puts between examples).
const LABEL_MSG = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const SUBDOMAIN_MSG = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const DNS1035_MSG = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
const QNAME_MSG = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const LABEL_VALUE_MSG = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

describe('DNS-1123 subdomains and labels', () => {
  it.each([
    ['web', [], []],
    ['web-1.example.com', [], ['must not contain dots']],
    ['Web', [SUBDOMAIN_MSG], [LABEL_MSG]],
    ['-web', [SUBDOMAIN_MSG], [LABEL_MSG]],
    ['a'.repeat(64), [], ['must be no more than 63 characters']],
    ['a'.repeat(254), ['must be no more than 253 characters'], ['must be no more than 63 characters']],
  ])('%s', (name, subdomain, label) => {
    expect(isDNS1123Subdomain(name)).toEqual(subdomain);
    expect(isDNS1123Label(name)).toEqual(label);
  });
});

describe('isDNS1035Label', () => {
  it.each([
    ['web-1', []],
    ['1web', [DNS1035_MSG]],
    ['web.x', [DNS1035_MSG]],
    ['a'.repeat(64), ['must be no more than 63 characters']],
  ])('%s', (name, want) => {
    expect(isDNS1035Label(name)).toEqual(want);
  });
});

describe('isQualifiedName', () => {
  it.each([
    ['app', []],
    ['app.kubernetes.io/name', []],
    ['My_Name.1', []],
    ['a@b', [`name part ${QNAME_MSG}`]],
    ['bad key', [`name part ${QNAME_MSG}`]],
    ['', ['name part must be non-empty', `name part ${QNAME_MSG}`]],
    ['x/', ['name part must be non-empty', `name part ${QNAME_MSG}`]],
    ['n'.repeat(64), ['name part must be no more than 63 characters']],
    ['/x', ['prefix part must be non-empty']],
    ['Example.com/x', [`prefix part ${SUBDOMAIN_MSG}`]],
    [`${'p'.repeat(254)}/x`, ['prefix part must be no more than 253 characters']],
    ['a/b/c', [`a qualified name ${QNAME_MSG} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`]],
  ])('%j', (name, want) => {
    expect(isQualifiedName(name)).toEqual(want);
  });
});

describe('isValidLabelValue', () => {
  it.each([
    ['', []],
    ['MyValue_1.x', []],
    ['a b', [LABEL_VALUE_MSG]],
    ['-x', [LABEL_VALUE_MSG]],
    ['v'.repeat(64), ['must be no more than 63 characters']],
  ])('%j', (value, want) => {
    expect(isValidLabelValue(value)).toEqual(want);
  });
});
