// Functions the grids name in their column definitions ({"function": "nullsLast"}).
var dagfuncs = (window.dashAgGridFunctions = window.dashAgGridFunctions || {});

// Units without a value (no rank) stay at the end whichever way a column is sorted: AG Grid negates
// a comparator's result for a descending sort, so the sign for a missing value follows the direction.
dagfuncs.nullsLast = function (valueA, valueB, nodeA, nodeB, isDescending) {
    var aMissing = valueA === null || valueA === undefined;
    var bMissing = valueB === null || valueB === undefined;
    if (aMissing && bMissing) {
        return 0;
    }
    if (aMissing) {
        return isDescending ? -1 : 1;
    }
    if (bMissing) {
        return isDescending ? 1 : -1;
    }
    return valueA - valueB;
};
