package mock

import "math"

// vocab is the mock's output vocabulary: common English words with a leading
// space, each ONE token in both tiktoken o200k_base and cl100k_base (checked
// by TestVocabSingleTokens), then two punctuation tokens. Output text is a
// sequence of vocab entries in which punctuation never starts the text nor
// follows punctuation, so a client tokenizer splits it back into exactly the
// tokens the mock counted and output_sequence_length equals completion_tokens.
var vocab = [...]string{
	" the", " of", " and", " to", " in", " is", " that", " for", " it", " as", " was", " with",
	" be", " by", " on", " not", " he", " this", " are", " or", " his", " from", " at", " which",
	" but", " have", " an", " had", " they", " you", " were", " their", " one", " all", " we",
	" can", " her", " has", " there", " been", " if", " more", " when", " will", " would", " who",
	" so", " no", " time", " people", " year", " way", " day", " man", " thing", " woman",
	" life", " child", " world", " school", " state", " family", " student", " group", " country",
	" problem", " hand", " part", " place", " case", " week", " company", " system", " program",
	" question", " work", " government", " number", " night", " point", " home", " water",
	" room", " mother", " area", " money", " story", " fact", " month", " lot", " right",
	" study", " book", " eye", " job", " word", " business", " issue", " side", " kind", " head",
	" house", " service", " friend", " father", " power", " hour", " game", " line", " end",
	" member", " law", " car", " city", " community", " name", " president", " team", " minute",
	" idea", " kid", " body", " information", " back", " parent", " face", " others", " level",
	" office", " door", " health", " person", " art", " history", " party", " result", " change",
	" morning", " reason", " research", " girl", " guy", " moment", " air", " teacher", " force",
	" education", " foot", " boy", " age", " policy", " process", " music", " market", " sense",
	" nation", " plan", " college", " interest", " experience", " effect", " use", " class",
	" control", " care", " field", " development", " role", " effort", " rate", " heart", " show",
	" leader", " light", " voice", " wife", " mind", " price", " report", " decision", " son",
	" view", " relationship", " town", " road", " arm", " difference", " value", " building",
	" action", " model", " season", " society", " tax", " director", " position", " player",
	" record", " paper", " space", " ground", " form", " event", " official", " matter",
	" center", " couple", " site", " project", " activity", " star", " table", " need", " court",
	" oil", " situation", " cost", " industry", " figure", " street", " image", " phone", " data",
	" picture", " practice", " piece", " land", " product", " doctor", " wall", " patient",
	" worker", " news", " test", " movie", " north", " love", " support", " technology", " step",
	" baby", " computer", " type", " attention", " film", " tree", " source", " organization",
	" hair", " window", " evidence", " population", " truth", " song", " river", " garden",
	" bird", " horse", " stone", " cloud", " rain", " snow", " wind", " sun", " moon", " sea",
	" ship", " fire", " bridge", " forest", " island", " mountain", " valley", " flower",
	" fruit", " bread", " milk", " tea", " coffee", " sugar", " salt", " glass", " metal",
	" gold", " silver", " iron", " wood", " letter", " map", " key", " box", " bag", " bed",
	" chair", " desk", " cup", " plate", " clock", " bell", " coat", " shirt", " shoe", " hat",
	" ring", " rope", " wheel", " train", " plane", " boat", " path", " gate", " floor", " roof",
	" village", " castle", " tower", " church", " shop", " bank", " hotel", " library", " museum",
	" theater", " station", " airport", " harbor", " port", " farm", " factory", " kitchen",
	" bath", " good", " new", " first", " last", " long", " great", " little", " own", " other",
	" old", " big", " high", " different", " small", " large", " next", " early", " young",
	" important", " few", " public", " bad", " same", " able", " go", " make", " know", " take",
	" see", " come", " think", " look", " want", " give", " find", " tell", " ask", " seem",
	" feel", " try", " leave", " call", " keep", " let", " begin", " help", " talk", " turn",
	" start", " run", " move", " live", " believe", " hold", " bring", " happen", " write",
	" provide", " sit", " stand", " lose", " pay", " meet", " include", " continue", " set",
	" learn", " lead", " understand", " watch", " follow", " stop", " create", " speak", " read",
	" allow", " add", " spend", " grow", " open", " walk", " win", " offer", " remember",
	" consider", " appear", " buy", " wait", " serve", " send", " expect", " build", " stay",
	" fall", " cut", " reach", " remain", " suggest", " raise", " pass", " sell", " require",
	" decide", " return", " explain", " hope", " develop", " carry", " break", " receive",
	" agree", " pull", " cover", " also", " very", " often", " then", " now", " here", " well",
	" only", " just", " still", " even", " too", " again", " never", " always", " really",
	" almost", " already", " soon", " together", " quickly", " slowly", " quiet", " bright",
	" dark", " warm", " cold", " soft", " hard", " clear", " simple", " free", " full", " deep",
	" wide", " strong", " fast", " easy", " heavy", " green", " blue", " red", " white", " black",
	" yellow", " brown", " gray", " happy", " calm", " brave", " wise", " fair", " rich", " poor",
	" safe", " sweet", " fresh",
	".", ",",
}

// numWords is the count of word entries; punctuation follows them in vocab.
const numWords = len(vocab) - 2

// genTokens appends n vocab indices drawn from seed to dst: a word most of
// the time, a period or comma about one time in ten after a word.
func genTokens(dst []uint16, n int, seed uint64) []uint16 {
	r := rng{s: seed}
	prevPunct := true // text never starts with punctuation
	for range n {
		x := r.next()
		if !prevPunct && x%10 == 0 {
			dst = append(dst, uint16(numWords+int(x>>8)%2))
			prevPunct = true
			continue
		}
		dst = append(dst, uint16((x>>8)%uint64(numWords)))
		prevPunct = false
	}
	return dst
}

// appendText appends the text of toks.
func appendText(b []byte, toks []uint16) []byte {
	for _, t := range toks {
		b = append(b, vocab[t]...)
	}
	return b
}

// rng is splitmix64: tiny, allocation-free and good enough for jitter, fault
// draws and text; every stream is derived from the seed so runs reproduce.
type rng struct{ s uint64 }

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// float returns a uniform value in [0, 1).
func (r *rng) float() float64 { return float64(r.next()>>11) / (1 << 53) }

// norm returns a standard normal value (Box–Muller).
func (r *rng) norm() float64 {
	u := r.float()
	for u == 0 {
		u = r.float()
	}
	return math.Sqrt(-2*math.Log(u)) * math.Cos(2*math.Pi*r.float())
}

// mix derives an independent stream seed from a seed and a value.
func mix(a, b uint64) uint64 {
	r := rng{s: a ^ (b * 0xd1b54a32d192ed03)}
	r.next()
	return r.next()
}

// fnv64 hashes b (FNV-1a).
func fnv64(b []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return h
}
