package render

import (
	"encoding/json"
	"strings"
	"testing"
)

// The secret every case below gives; no message may contain it.
const testSecret = "hunter2Secret"

func TestMayHoldSecret(t *testing.T) {
	holds := func(segs []string) bool { return strings.Join(segs, ".") == "dataset.s3" }
	for path, want := range map[string]bool{
		"secretRef":                       true,
		"kubeConfigSecret.key":            true,
		"writeConnectionSecretToRef.name": true,
		"providerRef":                     true, // a reference to what holds credentials
		"providerRef.name":                true, // lies under one
		"keyPair":                         true,
		"s3.secretRef.name":               true,
		"dataset.s3":                      true, // its schema holds a secretRef
		"dataset.s3.endpoint":             true, // lies under one
		"dataset":                         false,
		"replicas":                        false,
		"repo":                            false,
		"nodePools.0.desiredSize":         false,
		"preference":                      false,
	} {
		if got := mayHoldSecret(strings.Split(path, "."), holds); got != want {
			t.Errorf("mayHoldSecret(%s) = %v, want %v", path, got, want)
		}
	}
}

// user decodes a JSON value as the properties are decoded.
func user(t *testing.T, v string) interface{} {
	t.Helper()
	var x interface{}
	if err := json.Unmarshal([]byte(v), &x); err != nil {
		t.Fatal(err)
	}
	return x
}

func TestInWords(t *testing.T) {
	cases := []struct {
		name, msg string
		secret    bool
		value     string // the user's value in JSON; "" when unknown
		want      string
	}{
		// A property that may hold a secret: its kind, never its value.
		{"object where a Secret's name belongs",
			`conflicting values string and {password:"hunter2Secret",username:"ci-bot"} (mismatched types string and struct)`,
			true, `{"username":"ci-bot","password":"hunter2Secret"}`, "must be a string, got an object"},
		{"object where a key with a default belongs",
			`conflicting values "KUBECONFIG" and {token:"hunter2Secret"} (mismatched types string and struct)`,
			true, `{"token":"hunter2Secret"}`, "must be a string, got an object"},
		{"list where a key pair's name belongs",
			`conflicting values string and ["hunter2Secret"] (mismatched types string and list)`,
			true, `["hunter2Secret"]`, "must be a string, got a list"},
		{"URL with the keys where an object belongs",
			`conflicting values "s3://AKIA:hunter2Secret@b" and {bucket:strings.MinRunes(1),secretRef?:_} (mismatched types string and struct)`,
			true, `"s3://AKIA:hunter2Secret@b"`, "must be an object, got a string"},
		{"string where an object belongs, the value unknown",
			`conflicting values "hunter2Secret" and {name:string} (mismatched types string and struct)`,
			true, "", "must be an object"},
		{"pattern", `invalid value "hunter2Secret" (out of bound =~"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")`,
			true, `"hunter2Secret"`, "must be a DNS label: lower-case letters, digits and '-', starting and ending with a letter or digit"},
		// Any other property: as before.
		{"string where an integer belongs", `conflicting values int and "5" (mismatched types int and string)`,
			false, `"5"`, `must be an integer, got the string "5"`},
		{"number where an integer belongs", `conflicting values int and 1.5 (mismatched types int and float)`,
			false, `1.5`, "must be an integer, got the number 1.5"},
		{"value unknown", `conflicting values int and "5" (mismatched types int and string)`,
			false, "", `must be an integer, got the string "5"`},
		{"object where a string belongs", `conflicting values string and {a:1} (mismatched types string and struct)`,
			false, `{"a":1}`, "must be a string, got an object"},
		{"bound", `invalid value 0 (out of bound >=1)`, false, `0`, "must be at least 1, got 0"},
		{"rule", `conflicting values "ok" and "set only one of s3 and oss"`, true, `{}`, "set only one of s3 and oss"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := given{secret: c.secret}
			if c.value != "" {
				g.value, g.ok = user(t, c.value), true
			}
			got, ok := inWords(c.msg, g)
			if !ok || got != c.want {
				t.Errorf("inWords = %q, %v; want %q", got, ok, c.want)
			}
			if c.secret && strings.Contains(got, testSecret) {
				t.Errorf("inWords prints the secret: %q", got)
			}
		})
	}
}

func TestFoldMessages(t *testing.T) {
	enum := []string{`2 errors in empty disjunction:`, `conflicting values "remove" and "delete"`, `conflicting values "remove" and "keep"`}
	if got := foldMessages(enum, "remove", true, false); strings.Join(got, "|") != `value "remove" is not allowed; allowed: "delete", "keep"` {
		t.Errorf("enum: %q", got)
	}
	secretEnum := []string{`conflicting values "hunter2Secret" and "delete"`, `conflicting values "hunter2Secret" and "keep"`}
	if got := foldMessages(secretEnum, testSecret, true, true); strings.Join(got, "|") != `a string is not allowed here (not printed: it may hold a credential); allowed: "delete", "keep"` {
		t.Errorf("secret enum: %q", got)
	}
	// CUE prints the user's object in its own syntax on one side: neither
	// side is listed.
	mismatch := []string{`conflicting values string and {password:"hunter2Secret"} (mismatched types string and struct)`}
	got := foldMessages(mismatch, user(t, `{"password":"hunter2Secret"}`), true, true)
	if strings.Join(got, "|") != "an object is not allowed here (not printed: it may hold a credential); allowed: a string" {
		t.Errorf("secret mismatch: %q", got)
	}
	// A message it does not know is kept, unless it shows the value.
	other := []string{`invalid value "hunter2Secret" (does not satisfy net.IP)`}
	if got := foldMessages(other, testSecret, true, true); strings.Join(got, "|") != "a string is not valid here (not printed: it may hold a credential)" {
		t.Errorf("secret, other: %q", got)
	}
	if got := foldMessages(other, testSecret, true, false); strings.Join(got, "|") != other[0] {
		t.Errorf("other: %q", got)
	}
}

func TestSplitMismatch(t *testing.T) {
	for _, c := range []struct {
		body, a, b, want, have string
		ok                     bool
	}{
		{`int and "5"`, "int", "string", "int", `"5"`, true},
		{`"a and b" and {x:string}`, "string", "struct", "struct", `"a and b"`, true},
		// An object where a string belongs: a struct on each side, the
		// user's value decides (inWords).
		{`string and {token:"x"}`, "string", "struct", "", "", false},
	} {
		want, have, ok := splitMismatch(c.body, c.a, c.b)
		if want != c.want || have != c.have || ok != c.ok {
			t.Errorf("splitMismatch(%s) = %q, %q, %v; want %q, %q, %v", c.body, want, have, ok, c.want, c.have, c.ok)
		}
	}
}

func TestOtherKind(t *testing.T) {
	for _, c := range []struct{ have, a, b, want string }{
		{"struct", "string", "struct", "string"},
		{"string", "string", "struct", "struct"},
		{"float", "int", "float", "int"},
		{"int", "number", "string", "string"},
	} {
		if got, ok := otherKind(c.have, c.a, c.b); !ok || got != c.want {
			t.Errorf("otherKind(%s, %s, %s) = %q, %v; want %q", c.have, c.a, c.b, got, ok, c.want)
		}
	}
	if _, ok := otherKind("string", "string", "string"); ok {
		t.Error("otherKind told two sides of one kind apart")
	}
}

// checkProperties, end to end, on a parameter with a Secret reference, a
// key pair, a reference to a Provider and a bucket that holds a Secret
// reference: each given a credential of the wrong kind.
func TestCheckPropertiesNeverPrintsACredential(t *testing.T) {
	def := &Definition{Name: "demo", Kind: KindComponent, Template: `
output: {}
parameter: {
	replicas: *1 | int
	secretRef?: string
	keyPair?: string
	providerRef: {name: *"default" | string}
	kubeConfigSecret?: {name: string, key: *"KUBECONFIG" | string}
	s3?: {bucket: string, endpoint?: string, secretRef?: {name: string}}
}`}
	for props, want := range map[string]string{
		`{"secretRef": {"password": "hunter2Secret"}}`:                       "properties.secretRef: must be a string, got an object",
		`{"keyPair": {"privateKey": "hunter2Secret"}}`:                       "properties.keyPair: must be a string, got an object",
		`{"providerRef": "AKIA:hunter2Secret"}`:                              "properties.providerRef: must be an object, got a string",
		`{"kubeConfigSecret": {"name": "c", "key": {"t": "hunter2Secret"}}}`: "properties.kubeConfigSecret.key: must be a string, got an object",
		`{"s3": "s3://AKIA:hunter2Secret@bucket/path"}`:                      "properties.s3: must be an object, got a string",
		`{"s3": {"bucket": "b", "secretRef": {"name": ["hunter2Secret"]}}}`:  "properties.s3.secretRef.name: must be a string, got a list",
		`{"replicas": "5"}`: `properties.replicas: must be an integer, got the string "5"`,
	} {
		problems := checkProperties(def, "demo", json.RawMessage(props), false)
		var msgs []string
		for _, p := range problems {
			msgs = append(msgs, p.String())
		}
		all := strings.Join(msgs, "\n")
		if !strings.Contains(all, want) {
			t.Errorf("%s: want %q, got:\n%s", props, want, all)
		}
		if strings.Contains(all, testSecret) {
			t.Errorf("%s: a message prints the credential:\n%s", props, all)
		}
	}
}
