package form

import (
	"strconv"
	"strings"
)

// AnswerText is one answer as staff read it (Swedish): the text, a
// number with its unit, Ja/Nej, a choice's label, an attachment's name.
func (it *Item) AnswerText(v Value) string {
	switch it.Type {
	case TypeNumber:
		s := strconv.FormatFloat(v.Number, 'f', -1, 64)
		if it.Decimals != nil {
			s = strconv.FormatFloat(v.Number, 'f', *it.Decimals, 64)
		}
		s = strings.Replace(s, ".", ",", 1) // Swedish decimal comma
		if it.Unit != nil && it.Unit.Text() != "" {
			s += " " + it.Unit.Text()
		}
		return s
	case TypeBoolean:
		if v.Bool {
			return "Ja"
		}
		return "Nej"
	case TypeChoice, TypeMultiChoice:
		for _, o := range it.Options {
			if o.Code == v.Code && (v.System == "" || o.System == "" || o.System == v.System) {
				if o.Label != "" {
					return o.Label
				}
				return o.Code
			}
		}
		if v.Text != "" {
			return v.Text // an "other" answer
		}
		return v.Code
	case TypeAttachment:
		if v.Attachment != nil {
			return v.Attachment.Name
		}
		return ""
	}
	return v.Text
}
