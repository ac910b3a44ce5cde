package procedure

// GenCodeForTest exposes the generator's codes to the external tests.
var GenCodeForTest = genCode
