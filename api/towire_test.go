package api

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"strongroom/api/wire"
	"strongroom/transfer"
	"strongroom/vault"
)

// TestWireShapes: every conversion from a vault type to its wire type
// marshals to exactly the bytes the vault type does, with every field set
// (a field lost or a tag changed fails) and with every field zero (nil
// lists stay null).
func TestWireShapes(t *testing.T) {
	cases := []struct {
		name    string
		from    any // a pointer to the vault value
		convert func(any) any
	}{
		{"User", new(vault.User), func(v any) any { return userOut(*v.(*vault.User)) }},
		{"CredentialInfo", new(vault.CredentialInfo), func(v any) any { return credInfoOut(*v.(*vault.CredentialInfo)) }},
		{"OffboardReport", new(vault.OffboardReport), func(v any) any { return offboardOut(*v.(*vault.OffboardReport)) }},
		{"Status", new(vault.Status), func(v any) any { return statusOut(*v.(*vault.Status)) }},
		{"VersionInfo", new(vault.VersionInfo), func(v any) any { return versionOut(*v.(*vault.VersionInfo)) }},
		{"Incident", new(vault.Incident), func(v any) any { return incidentOut(*v.(*vault.Incident)) }},
		{"AccessRequest", new(vault.AccessRequest), func(v any) any { return requestOut(*v.(*vault.AccessRequest)) }},
		{"Grant", new(vault.Grant), func(v any) any { return wire.Grant(*v.(*vault.Grant)) }},
		{"RegisterEntry", new(vault.RegisterEntry), func(v any) any { return registerOut(*v.(*vault.RegisterEntry)) }},
		{"ImportReport", new(vault.ImportReport), func(v any) any { return importOut(*v.(*vault.ImportReport)) }},
		{"Skipped", new(transfer.Skipped), func(v any) any { return wire.Skipped(*v.(*transfer.Skipped)) }},
		{"ExportReport", new(vault.ExportReport), func(v any) any { return wire.ExportReport(*v.(*vault.ExportReport)) }},
		{"ShareCheck", new(vault.ShareCheck), func(v any) any { return wire.ShareCheck(*v.(*vault.ShareCheck)) }},
		{"VerifyResult", new(vault.VerifyResult), func(v any) any { return wire.VerifyResult(*v.(*vault.VerifyResult)) }},
		{"TOTPCode", new(vault.TOTPCode), func(v any) any { return wire.TOTPCode(*v.(*vault.TOTPCode)) }},
	}
	for _, tc := range cases {
		for _, full := range []bool{false, true} {
			if full {
				fill(reflect.ValueOf(tc.from).Elem())
			}
			want, err1 := json.Marshal(tc.from)
			got, err2 := json.Marshal(tc.convert(tc.from))
			if err1 != nil || err2 != nil || !bytes.Equal(got, want) {
				t.Errorf("%s (filled %v):\n got %s\nwant %s %v %v", tc.name, full, got, want, err1, err2)
			}
		}
	}
}

// fill sets every exported field of v to a value that is not zero and
// differs from field to field.
func fill(v reflect.Value) {
	n := 0
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		n++
		switch v.Kind() {
		case reflect.String:
			v.SetString("s" + string(rune('a'+n%26)))
		case reflect.Bool:
			v.SetBool(true)
		case reflect.Int, reflect.Int64:
			if v.Type() == reflect.TypeOf(time.Duration(0)) {
				v.SetInt(int64(n) * int64(time.Minute))
			} else {
				v.SetInt(int64(n))
			}
		case reflect.Uint32, reflect.Uint64:
			v.SetUint(uint64(n))
		case reflect.Float64:
			v.SetFloat(float64(n) + 0.5)
		case reflect.Pointer:
			v.Set(reflect.New(v.Type().Elem()))
			walk(v.Elem())
		case reflect.Slice:
			v.Set(reflect.MakeSlice(v.Type(), 2, 2))
			walk(v.Index(0))
			walk(v.Index(1))
		case reflect.Struct:
			if v.Type() == reflect.TypeOf(time.Time{}) {
				v.Set(reflect.ValueOf(time.Date(2026, 4, 1, 9, n%60, 0, 0, time.UTC)))
				return
			}
			for i := 0; i < v.NumField(); i++ {
				if v.Type().Field(i).IsExported() {
					walk(v.Field(i))
				}
			}
		}
	}
	walk(v)
}
